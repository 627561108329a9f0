// The task pane's own weight: what Outlook downloads for it besides
// Office.js, gzipped as the backend may serve it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { addinDir } from "./harness.js";

// taskpane.html and everything it loads for an English user.
const PANE = ["taskpane.html", "taskpane.css", "taskpane.js", "api.js", "auth.js", "compose.js", "joinblock.js", "meeting.js", "i18n.js", "i18n/en-US.js", "assets/icon-32.png"];

test("task-pane assets are at most 50 KB gzipped", () => {
  let raw = 0;
  let gz = 0;
  for (const f of PANE) {
    const b = readFileSync(path.join(addinDir, f));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  console.log(`task-pane assets: ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (goal 50 KB)`);
  assert.ok(gz <= 50 * 1024, `${gz} bytes gzipped`);
});

test("every module the pane imports is counted", () => {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    const src = readFileSync(path.join(addinDir, f), "utf8");
    for (const m of src.matchAll(/^import [^"]*"\.\/([^"]+)";$/gm)) visit(m[1]);
  };
  visit("taskpane.js");
  for (const f of seen) assert.ok(PANE.includes(f), `${f} is imported by the pane but not counted`);
});

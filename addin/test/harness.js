// Runs the add-in as Outlook would: the real backend in sandbox mode on a
// free port, Debian's Chromium through playwright-core, and Office.js
// replaced by office-addin-mock's Outlook (officemock.js). Nothing leaves
// the machine: every request to another origin is refused and recorded.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const addinDir = path.resolve(here, "..");
const repoDir = path.resolve(addinDir, "..");
export const artifacts = path.join(here, "artifacts");
export { here };


/** The Office.js stand-in: office-addin-mock's modules, then officemock.js. */
function officeShim() {
  const mod = (p) => readFileSync(path.join(here, "node_modules", p), "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
  const defs = {
    "office-addin-manifest": mod("office-addin-manifest/lib/officeApp.js"),
    "./host": mod("office-addin-mock/lib/host.js"),
    "./possibleErrors": mod("office-addin-mock/lib/possibleErrors.js"),
    "./officeMockObject": mod("office-addin-mock/lib/officeMockObject.js"),
  };
  // A CommonJS loader in a few lines, written out rather than evaluated,
  // so that the page's Content-Security-Policy (no eval) holds.
  const modules = Object.entries(defs)
    .map(([name, src]) => `${JSON.stringify(name)}: function (module, exports, require) {\n${src}\n}`)
    .join(",\n");
  return `(function () {
var defs = {${modules}};
var cache = {};
function require(name) {
  if (!cache[name]) { cache[name] = { exports: {} }; defs[name](cache[name], cache[name].exports, require); }
  return cache[name].exports;
}
window.OfficeMockObject = require("./officeMockObject").OfficeMockObject;
})();
${readFileSync(path.join(here, "officemock.js"), "utf8")}`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

function backendBinary() {
  if (process.env.WEBSCHEDULER_BIN) return process.env.WEBSCHEDULER_BIN;
  const bin = path.join(mkdtempSync(path.join(os.tmpdir(), "webscheduler-addin-")), "webscheduler");
  execFileSync("go", ["build", "-o", bin, "./backend/cmd/webscheduler"], { cwd: repoDir, stdio: "inherit" });
  return bin;
}

/**
 * Starts the backend in sandbox mode on a free loopback port.
 * @param {{autoAdd?: boolean}} [policy]  the admin's policy; on means a
 *   settings file with autoAddToNewMeetings, as an admin would write it
 * @returns {Promise<{origin: string, log: () => string, stop: () => Promise<void>}>}
 */
export async function startBackend(policy = {}) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // A clean environment: nothing of a real tenant may leak in.
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR || os.tmpdir(),
    WEBSCHEDULER_ADDR: `127.0.0.1:${port}`,
    WEBSCHEDULER_PUBLIC_URL: origin,
    WEBSCHEDULER_SANDBOX: "1",
    WEBSCHEDULER_LOG_LEVEL: "warn",
  };
  if (policy.autoAdd) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "webscheduler-settings-")), "settings.yaml");
    writeFileSync(
      file,
      `template:
  joinUrl: ${origin}/join/{conference_id}
  conferenceIdLength: 7
  passcode: {policy: required, length: 6}
  room: meeting-{conference_id}
dialIn:
  url: ${origin}/dialin
  numbers:
    - {region: "United States, Seattle", country: US, number: +1 206-555-0142, language: en-US}
autoAddToNewMeetings: true
`,
    );
    env.WEBSCHEDULER_SETTINGS = file;
  }
  const proc = spawn(backendBinary(), ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (b) => (output += b));
  proc.stderr.on("data", (b) => (output += b));
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`backend exited (${proc.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`backend did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    log: () => output,
    async stop() {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
}

/**
 * A browser context on the backend's origin with Office.js replaced, other
 * origins refused, and every request recorded.
 * @param {import("playwright-core").Browser} browser
 * @param {Awaited<ReturnType<typeof startBackend>>} backend
 * @param {import("playwright-core").BrowserContextOptions} [options]
 */
export async function newContext(browser, backend, options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 720 }, ...options });
  /** @type {string[]} */
  const requests = [];
  /** @type {string[]} */
  const refused = [];
  ctx.on("request", (r) => requests.push(r.url()));
  const own = new URL(backend.origin);
  await ctx.route(
    (u) => u.origin !== own.origin && u.href !== OFFICE_JS && u.hostname !== "127.0.0.1",
    (route) => {
      refused.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  const shim = officeShim();
  await ctx.route(OFFICE_JS, (route) => route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: shim }));
  return { ctx, requests, refused };
}

/**
 * Opens the task pane with the given Outlook and waits until it settles.
 * @param {import("playwright-core").BrowserContext} ctx
 * @param {string} origin
 * @param {object} [config]  window.__officeMockConfig
 */
export async function openPane(ctx, origin, config = {}) {
  const page = await ctx.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.addInitScript((cfg) => {
    window.__officeMockConfig = cfg;
  }, config);
  await page.goto(`${origin}/addin/taskpane.html`);
  await settled(page);
  return { page, errors };
}

/**
 * Waits until the pane is neither loading nor working.
 * @param {import("playwright-core").Page} page
 */
export async function settled(page) {
  await page.waitForFunction(() => document.getElementById("main")?.getAttribute("aria-busy") === "false", null, { timeout: 30_000 });
}

/**
 * The mock item's state.
 * @param {import("playwright-core").Page} page
 */
export function item(page) {
  return page.evaluate(() => {
    const s = window.__officeMock.state;
    return { body: s.body, bodyType: s.bodyType, location: s.location, props: s.props, setBodyCalls: s.setBodyCalls, dialogs: s.dialogs, notifications: s.notifications };
  });
}

/** How many join blocks a body holds (start markers with an end marker). */
export function blocks(body) {
  return (body.match(/\[webscheduler(?::[^\]\s]*)?\][\s\S]*?\[\/webscheduler\]/g) || []).length;
}

/**
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// The add-in in headless Chromium against the real backend in sandbox mode,
// with office-addin-mock standing in for Outlook.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { OFFICE_JS, blocks, here, item, launchBrowser, newContext, openPane, screenshot, settled, startBackend } from "./harness.js";

/** @type {Awaited<ReturnType<typeof startBackend>>} */
let backend;
/** A backend whose admin turned on adding join information to new meetings.
 * @type {Awaited<ReturnType<typeof startBackend>>} */
let autoAddBackend;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {string[]} */
const requests = [];
/** @type {string[]} */
const refused = [];

before(async () => {
  [backend, autoAddBackend] = await Promise.all([startBackend(), startBackend({ autoAdd: true })]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
  await autoAddBackend?.stop();
});

/**
 * A fresh context whose requests go into the shared network log.
 * @param {import("playwright-core").BrowserContextOptions} [options]
 * @param {Awaited<ReturnType<typeof startBackend>>} [b]  the backend (default: the sandbox's policy)
 */
async function context(options = {}, b = backend) {
  const c = await newContext(browser, b, options);
  c.ctx.on("close", () => {
    requests.push(...c.requests);
    refused.push(...c.refused);
  });
  return c.ctx;
}

/**
 * Clicks a button and waits for the pane to settle.
 * @param {import("playwright-core").Page} page
 * @param {string} selector
 */
async function click(page, selector) {
  await page.click(selector);
  await settled(page);
}

/**
 * The meeting as the backend has it, with a sandbox token for the pane's user.
 * @param {string} id
 */
async function backendMeeting(id, b = backend) {
  const tok = await (await fetch(`${b.origin}/sandbox/token`, { method: "POST", body: new URLSearchParams({ user: "adele.vance@contoso.example" }) })).json();
  const res = await fetch(`${b.origin}/api/v1/meetings/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${tok.access_token}` } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * The runtime page of the command and the event handlers.
 * @param {Awaited<ReturnType<typeof startBackend>>} [b]
 */
async function commandsPage(b = backend) {
  const ctx = await context({}, b);
  const page = await ctx.newPage();
  await page.goto(`${b.origin}/addin/commands.html`);
  await page.waitForFunction(() => window.__officeMock?.actions.addMeetingCommand && window.__officeMock.actions.onNewAppointmentOrganizer);
  return { ctx, page };
}

/**
 * @param {import("playwright-core").Page} page
 */
async function statusText(page) {
  return (await page.locator("#status-text").textContent()) || "";
}

describe("task pane", () => {
  test("renders at once, signs in with SSO and shows the user", async () => {
    const ctx = await context();
    // First render, from navigation to the first contentful paint, after
    // one load that fills the HTTP cache. Measured and printed for
    // BENCHMARKS.md (goal 200 ms); no test asserts a time.
    await (await openPane(ctx, backend.origin)).page.close();
    const paints = [];
    for (let i = 0; i < 5; i++) {
      const { page } = await openPane(ctx, backend.origin);
      paints.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1));
      await page.close();
    }
    const median = [...paints].sort((a, b) => a - b)[2];
    console.log(`first contentful paint: ${paints.map((p) => p.toFixed(0)).join(", ")} ms (median ${median.toFixed(0)} ms; goal 200 ms)`);
    assert.ok(paints.every((p) => p > 0), "every load painted");
    const { page, errors } = await openPane(ctx, backend.origin);
    assert.equal(await page.locator("h1").textContent(), "Online meeting");
    assert.ok(await page.isEnabled("#add"));
    assert.match((await page.locator("#footer").textContent()) || "", /Signed in as Adele Vance/);
    assert.deepEqual(errors, []);
    await screenshot(page, "1-ready");
    await ctx.close();
  });

  test("add, add again, change the time, remove: one block at most, location kept in step (HTML body)", async () => {
    const ctx = await context();
    const { page, errors } = await openPane(ctx, backend.origin);
    const before = (await item(page)).body;

    await click(page, "#add");
    let it = await item(page);
    assert.equal(await statusText(page), "The join information is in the invitation.");
    assert.equal(blocks(it.body), 1, it.body);
    const id = it.props.webschedulerMeetingId;
    assert.ok(id, "meeting ID stored in the item");
    const m = await backendMeeting(id);
    assert.equal(m.status, 200);
    assert.ok(it.body.includes(`[webscheduler:${m.body.conferenceId}]`));
    assert.equal(it.location, m.body.location);
    assert.ok(it.body.startsWith(before.slice(0, before.indexOf("</body>"))), "the organizer's content is left alone");
    assert.equal(await page.locator("#conference-id").textContent(), m.body.conferenceId);
    await screenshot(page, "2-added");

    // Again, twice in a row: the same meeting, still one block.
    await page.click("#update");
    await page.click("#update", { force: true }).catch(() => {});
    await settled(page);
    it = await item(page);
    assert.equal(blocks(it.body), 1);
    assert.equal(it.props.webschedulerMeetingId, id);
    assert.equal(it.location, m.body.location, "location not added twice");

    // The time changes: the handler brings the meeting and block up to date.
    await page.evaluate(() => import("/addin/launchevent.js"));
    const start = "2031-03-05T14:00:00.000Z";
    const end = "2031-03-05T15:30:00.000Z";
    await page.evaluate(({ start, end }) => {
      window.__officeMock.state.start = new Date(start);
      window.__officeMock.state.end = new Date(end);
      return window.__officeMock.fire("onAppointmentTimeChanged", { type: "AppointmentTimeChanged" });
    }, { start, end });
    it = await item(page);
    assert.equal(blocks(it.body), 1);
    const moved = await backendMeeting(id);
    assert.equal(new Date(moved.body.start).toISOString(), start);
    assert.equal(new Date(moved.body.end).toISOString(), end);
    assert.ok(it.body.includes(`[webscheduler:${moved.body.conferenceId}]`));

    // A recurrence change sends the series' first times the same way.
    const [patched] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "PATCH"),
      page.evaluate(() => window.__officeMock.fire("onAppointmentRecurrenceChanged", { type: "AppointmentRecurrenceChanged" })),
    ]);
    assert.equal(patched.status(), 200);

    await click(page, "#remove");
    it = await item(page);
    assert.equal(blocks(it.body), 0);
    assert.ok(!it.body.includes("webscheduler"), it.body);
    assert.equal(it.body, before, "remove undoes add byte for byte");
    assert.equal(it.location, "");
    assert.deepEqual(it.props, {});
    assert.equal((await backendMeeting(id)).status, 404);
    assert.ok(await page.isVisible("#add"));
    await screenshot(page, "3-removed");
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test("text body and a location of the organizer's own", async () => {
    const ctx = await context();
    const body = "Agenda:\r\n- roadmap\r\n";
    const { page } = await openPane(ctx, backend.origin, { bodyType: "text", body, location: "Room 4.01" });
    await click(page, "#add");
    let it = await item(page);
    assert.equal(blocks(it.body), 1, it.body);
    assert.ok(it.body.startsWith(body + "\r\n\r\n"), JSON.stringify(it.body));
    assert.ok(!/<[a-z]/i.test(it.body), "no markup in a text body");
    assert.match(it.location, /^Room 4\.01; /);
    await click(page, "#update");
    it = await item(page);
    assert.equal(blocks(it.body), 1);
    await click(page, "#remove");
    it = await item(page);
    assert.equal(it.body, body);
    assert.equal(it.location, "Room 4.01");
    await ctx.close();
  });

  test("the ribbon command adds one block, however often it runs", async () => {
    const { ctx, page } = await commandsPage();
    await page.evaluate(() => Promise.all([window.__officeMock.fire("addMeetingCommand"), window.__officeMock.fire("addMeetingCommand")]));
    await page.evaluate(() => window.__officeMock.fire("addMeetingCommand"));
    const it = await item(page);
    assert.equal(blocks(it.body), 1);
    assert.equal(it.notifications.webscheduler?.message, "Online meeting added.");
    await ctx.close();
  });

  test("a new appointment gets join information only when the admin's policy says so", async () => {
    let { ctx, page } = await commandsPage();
    // The sandbox's policy: off.
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/v1/settings/addin")),
      page.evaluate(() => window.__officeMock.fire("onNewAppointmentOrganizer")),
    ]);
    assert.equal(res.status(), 200, "GET /api/v1/settings/addin");
    assert.equal((await res.json()).autoAdd, false);
    assert.equal(blocks((await item(page)).body), 0);
    await ctx.close();

    // On, as an admin sets it in the settings file: one block, and the
    // click that follows finds the same meeting.
    ({ ctx, page } = await commandsPage(autoAddBackend));
    await page.evaluate(() => window.__officeMock.fire("onNewAppointmentOrganizer"));
    let it = await item(page);
    assert.equal(blocks(it.body), 1);
    const id = it.props.webschedulerMeetingId;
    await page.evaluate(() => window.__officeMock.fire("addMeetingCommand"));
    it = await item(page);
    assert.equal(blocks(it.body), 1);
    assert.equal(it.props.webschedulerMeetingId, id);
    await ctx.close();
  });

  test("a create whose answer is lost is retried with the same Idempotency-Key", async () => {
    const ctx = await context();
    const { page } = await openPane(ctx, backend.origin);
    /** @type {{key: string | undefined, id: string}[]} */
    const posts = [];
    await page.route("**/api/v1/meetings", async (route) => {
      const res = await route.fetch();
      posts.push({ key: route.request().headers()["idempotency-key"], id: (await res.json()).id });
      // The first answer never arrives; the meeting exists all the same.
      if (posts.length === 1) return route.abort("connectionreset");
      return route.fulfill({ response: res });
    });
    await click(page, "#add");
    assert.ok(await page.isVisible("#alert"));
    await click(page, "#alert-action");
    assert.equal(posts.length, 2);
    assert.ok(posts[0].key && posts[0].key === posts[1].key, "same key");
    assert.equal(posts[1].id, posts[0].id, "the backend answered with the first meeting");
    const it = await item(page);
    assert.equal(it.props.webschedulerMeetingId, posts[0].id);
    assert.equal(it.props.webschedulerPendingKey, undefined, "the pending key is cleared");
    assert.equal(blocks(it.body), 1);
    await ctx.close();
  });

  test("attendee changes reach the meeting", async () => {
    const ctx = await context();
    const { page } = await openPane(ctx, backend.origin);
    await click(page, "#add");
    await page.evaluate(() => import("/addin/launchevent.js"));
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "PATCH"),
      page.evaluate(() => {
        window.__officeMock.state.optional = ["megan.bowen@contoso.example"];
        return window.__officeMock.fire("onAppointmentAttendeesChanged", { type: "AppointmentAttendeesChanged" });
      }),
    ]);
    assert.deepEqual(JSON.parse(res.request().postData() || "{}").attendees, ["alex.wilber@contoso.example", "megan.bowen@contoso.example"]);
    assert.equal(res.status(), 200, `PATCH with attendees: ${await res.text()}`);
    assert.equal(blocks((await item(page)).body), 1);
    await ctx.close();
  });

  test("the classic script for classic Outlook on Windows runs the same handlers", async () => {
    const ctx = await context({}, autoAddBackend);
    const page = await ctx.newPage();
    // A page that loads launchevent.classic.js as Outlook's JavaScript-only
    // runtime does: a classic script after Office.js, no modules.
    await page.route(`${autoAddBackend.origin}/addin/classic-runtime.html`, (route) =>
      route.fulfill({ contentType: "text/html", body: `<!doctype html><script src="${OFFICE_JS}"></script><script src="/addin/launchevent.classic.js"></script>` }),
    );
    await page.goto(`${autoAddBackend.origin}/addin/classic-runtime.html`);
    await page.waitForFunction(() => Object.keys(window.__officeMock?.actions || {}).length === 4);
    assert.equal(await page.evaluate(() => typeof window.addMeeting), "undefined", "nothing leaks into the global scope");
    await page.evaluate(() => window.__officeMock.fire("onNewAppointmentOrganizer"));
    let it = await item(page);
    assert.equal(blocks(it.body), 1);
    const start = "2031-04-01T08:00:00.000Z";
    await page.evaluate((start) => {
      window.__officeMock.state.start = new Date(start);
      window.__officeMock.state.end = new Date(Date.parse(start) + 1800e3);
      return window.__officeMock.fire("onAppointmentTimeChanged");
    }, start);
    const m = await backendMeeting((await item(page)).props.webschedulerMeetingId, autoAddBackend);
    assert.equal(new Date(m.body.start).toISOString(), start);
    it = await item(page);
    assert.equal(blocks(it.body), 1);
    await ctx.close();
  });

  test("SSO error 13001 falls back to the sign-in dialog", async () => {
    const ctx = await context();
    const { page } = await openPane(ctx, backend.origin, { ssoError: 13001 });
    // Opening the pane asks no window of its own.
    assert.equal((await item(page)).dialogs, 0);
    await click(page, "#add");
    const it = await item(page);
    assert.equal(it.dialogs, 1);
    assert.equal(blocks(it.body), 1);
    assert.equal(await statusText(page), "The join information is in the invitation.");
    await screenshot(page, "4-added-after-dialog");
    await ctx.close();
  });

  test("errors say what happened, give the code and a way out", async () => {
    const ctx = await context();
    // SSO fails and the dialog is blocked.
    let { page } = await openPane(ctx, backend.origin, { ssoError: 13001, dialogError: 12009 });
    await click(page, "#add");
    assert.ok(await page.isVisible("#alert"));
    assert.match((await page.locator("#alert-text").textContent()) || "", /blocked/);
    assert.equal(await page.locator("#alert-code").textContent(), "Error code: dialog_blocked");
    assert.equal(await page.locator("#alert-action").textContent(), "Sign in");
    await screenshot(page, "5-error-sign-in");
    await page.close();

    // A service error: the backend's code and sentence.
    ({ page } = await openPane(ctx, backend.origin, { start: "2031-03-04T10:00:00Z", end: "2031-03-04T09:00:00Z" }));
    await click(page, "#add");
    assert.ok(await page.isVisible("#alert"));
    assert.equal(await page.locator("#alert-code").textContent(), "Error code: invalid_request");
    assert.equal(await page.locator("#alert-action").textContent(), "Try again");
    assert.equal(blocks((await item(page)).body), 0);
    await screenshot(page, "6-error-service");

    // Offline.
    await ctx.setOffline(true);
    await page.evaluate(() => window.dispatchEvent(new Event("offline")));
    await click(page, "#alert-action");
    assert.ok(await page.isVisible("#offline"));
    assert.match(await page.locator("#alert-code").textContent() || "", /offline|network/);
    await screenshot(page, "7-offline");
    await ctx.setOffline(false);
    await ctx.close();
  });

  test("keyboard only", async () => {
    const ctx = await context();
    const { page } = await openPane(ctx, backend.origin);
    await page.keyboard.press("Tab");
    const order = [];
    for (let i = 0; i < 4; i++) {
      order.push(await page.evaluate(() => document.activeElement?.id));
      await page.keyboard.press("Tab");
    }
    assert.deepEqual(order, ["lobby", "phone-bypass", "presenters", "add"]);
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await settled(page);
    assert.equal(blocks((await item(page)).body), 1);
    // Add is gone; focus moved to Update rather than to nowhere.
    assert.equal(await page.evaluate(() => document.activeElement?.id), "update");
    const focus = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(focus, "none", "focus is visible");
    await screenshot(page, "8-keyboard");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "remove");
    await page.keyboard.press("Space");
    await settled(page);
    assert.equal(blocks((await item(page)).body), 0);
    await ctx.close();
  });

  test("no serious accessibility violations (axe-core), light and dark, en-US and ja-JP", async () => {
    const axe = readFileSync(path.join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
    const dark = { bodyBackgroundColor: "#292929", bodyForegroundColor: "#ffffff", controlBackgroundColor: "#333333", controlForegroundColor: "#ffffff" };
    for (const [name, config] of [
      ["light", {}],
      ["dark-ja", { theme: dark, displayLanguage: "ja-JP" }],
    ]) {
      const ctx = await context();
      const { page } = await openPane(ctx, backend.origin, config);
      const states = [["ready", async () => {}], ["added", () => click(page, "#add")], ["error", async () => {
        await page.evaluate(() => (window.__officeMock.state.end = new Date(0)));
        await click(page, "#update");
      }]];
      for (const [state, act] of states) {
        await act();
        // Evaluated over DevTools, so the page's CSP does not stop it.
        await page.evaluate(axe);
        const result = await page.evaluate(() => window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }));
        const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
        assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`), [], `${name}/${state}`);
        await screenshot(page, `9-${name}-${state}`);
      }
      await ctx.close();
    }
  });

  test("the network log holds the backend's origin and Office.js only", () => {
    const own = [backend.origin, autoAddBackend.origin].map((o) => new URL(o).origin);
    const others = requests.filter((u) => !own.includes(new URL(u).origin) && u !== OFFICE_JS);
    assert.deepEqual(others, []);
    assert.deepEqual(refused, []);
    assert.ok(requests.includes(OFFICE_JS), "Office.js was asked for (and served by the stand-in)");
  });
});

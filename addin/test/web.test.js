// The Web Scheduler page in headless Chromium against the real backend in
// sandbox mode: sign in, create, list, edit, export, cancel, as a person
// on a phone-sized screen would.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { here, launchBrowser, newContext, screenshot, startBackend } from "./harness.js";

const ADELE = "adele.vance@contoso.example";
const ALEX = "alex.wilber@contoso.example";
const GUEST = "guest@fabrikam.example";
const SUBJECT = "Roadmap review <b>bold</b>";

/** @type {Awaited<ReturnType<typeof startBackend>>} */
let backend;
/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  backend = await startBackend();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
});

/**
 * The properties of an iCalendar object's VEVENT, lines unfolded (RFC 5545
 * §3.1), and the names of its other components.
 * @param {string} text
 */
function parseICS(text) {
  assert.match(text, /^BEGIN:VCALENDAR\r\n/);
  const lines = text.replace(/\r\n[ \t]/g, "").split("\r\n").filter(Boolean);
  /** @type {{name: string, params: string, value: string}[]} */
  const event = [];
  const components = [];
  let inEvent = false;
  for (const line of lines) {
    const [, name, params, value] = /^([A-Z-]+)((?:;[^:]*)?):(.*)$/.exec(line) || [];
    assert.ok(name, `not a content line: ${line}`);
    if (name === "BEGIN") components.push(value);
    if (name === "BEGIN" && value === "VEVENT") inEvent = true;
    else if (name === "END" && value === "VEVENT") inEvent = false;
    else if (inEvent) event.push({ name, params, value });
  }
  const unescape = (/** @type {string} */ v) => v.replace(/\\([\\;,nN])/g, (_, c) => (c === "n" || c === "N" ? "\n" : c));
  return {
    components,
    /** @param {string} name */
    get: (name) => event.find((p) => p.name === name),
    /** @param {string} name */
    all: (name) => event.filter((p) => p.name === name),
    unescape,
  };
}

/** The emulated mailbox's events, as Graph JSON. */
async function mailbox(/** @type {string} */ upn) {
  const res = await fetch(`${backend.origin}/sandbox/mailboxes/${encodeURIComponent(upn)}/events`);
  return /** @type {{value: {subject: string, id: string}[]}} */ (await res.json()).value;
}

test("sign in, create with two attendees, list, edit, export, cancel", async () => {
  const { ctx, refused, requests } = await newContext(browser, backend, { acceptDownloads: true });
  const page = await ctx.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  // Sign in: the page sends us to the emulated Entra ID, which lists the seeded users.
  await page.goto(`${backend.origin}/meetings`);
  await page.getByRole("button", { name: new RegExp(ADELE) }).click();
  await page.waitForURL(/\/meetings$/);
  await page.getByText("Signed in as Adele Vance").waitFor();
  await screenshot(page, "web-1-signed-in");

  // New meeting: one attendee found through people search, one typed.
  await page.getByRole("link", { name: "New meeting" }).click();
  await page.getByLabel("Subject").fill(SUBJECT);
  await page.getByLabel("Start", { exact: true }).fill("2027-06-01T09:00");
  await page.getByLabel("End", { exact: true }).fill("2027-06-01T10:00");
  assert.equal(await page.getByLabel("Time zone").inputValue(), "America/Los_Angeles", "the mailbox's zone is preselected");
  const find = page.getByLabel("Find people");
  await find.fill("alex");
  await page.locator(`#people option[value="${ALEX}"]`).waitFor({ state: "attached" });
  await find.fill(ALEX); // choosing the suggestion
  await page.getByText(`${ALEX} added to the attendees.`).waitFor({ state: "attached" });
  const attendees = page.getByLabel("Attendees (one address per line)");
  await attendees.press("End");
  await attendees.pressSequentially(GUEST);
  assert.equal((await attendees.inputValue()).trim(), `${ALEX}\n${GUEST}`);
  await page.getByLabel("Who can bypass the lobby?").selectOption("invited");
  await screenshot(page, "web-2-new-meeting");
  await page.getByRole("button", { name: "Create meeting" }).click();
  await page.getByText("The meeting was created and the invitations sent.").waitFor();
  const conferenceId = (await page.locator("#conference-id").textContent())?.trim();
  assert.match(conferenceId || "", /^\d{5,12}$/);
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), SUBJECT, "the subject is shown as text");
  for (const who of [ALEX, GUEST]) await page.getByText(who).first().waitFor();
  assert.ok(await page.getByRole("button", { name: "Copy Join link" }).isVisible(), "copy buttons appear with the script");
  await screenshot(page, "web-3-details");

  // It appears in My meetings.
  await page.getByRole("link", { name: "My meetings" }).click();
  await page.getByLabel("From", { exact: true }).fill("2027-05-31");
  await page.getByLabel("To", { exact: true }).fill("2027-06-02");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("link", { name: SUBJECT }).waitFor();
  assert.ok((await page.getByRole("row").filter({ hasText: conferenceId }).count()) === 1);
  await screenshot(page, "web-4-list");

  // Edit the time.
  await page.getByRole("link", { name: SUBJECT }).click();
  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByLabel("Start", { exact: true }).fill("2027-06-01T13:30");
  await page.getByLabel("End", { exact: true }).fill("2027-06-01T14:30");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("The meeting was updated.").waitFor();
  await page.getByText("13:30–14:30").waitFor();
  await screenshot(page, "web-5-edited");

  // Export the .ics and parse it back.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export to iCalendar (.ics)" }).click()]);
  assert.equal(download.suggestedFilename(), `meeting-${conferenceId}.ics`);
  const ics = parseICS(readFileSync(/** @type {string} */ (await download.path()), "utf8"));
  for (const c of ["VTIMEZONE", "DAYLIGHT", "STANDARD", "VEVENT"]) assert.ok(ics.components.includes(c), `no ${c} in ${ics.components}`);
  assert.equal(ics.unescape(ics.get("SUMMARY")?.value || ""), SUBJECT);
  assert.equal(ics.get("DTSTART")?.params, ";TZID=America/Los_Angeles");
  assert.equal(ics.get("DTSTART")?.value, "20270601T133000");
  assert.equal(ics.get("DTEND")?.value, "20270601T143000");
  assert.deepEqual(ics.all("ATTENDEE").map((a) => a.value.toLowerCase()).sort(), [`mailto:${ALEX}`, `mailto:${GUEST}`]);
  assert.equal(ics.get("ORGANIZER")?.value.toLowerCase(), `mailto:${ADELE}`);
  assert.match(ics.get("URL")?.value || "", /^http/);
  assert.ok(ics.unescape(ics.get("DESCRIPTION")?.value || "").includes(conferenceId || "-"), "the join text is in DESCRIPTION");

  // Cancel: gone from the list and from the mailbox.
  const before = (await mailbox(ADELE)).filter((e) => e.subject === SUBJECT);
  assert.equal(before.length, 1);
  await page.getByRole("link", { name: "Cancel meeting" }).click();
  await page.getByLabel("Message to attendees").fill("Sorry, we will meet next week.");
  await page.getByRole("button", { name: "Cancel meeting" }).click();
  await page.getByText("The meeting was cancelled.").waitFor();
  await page.getByLabel("From", { exact: true }).fill("2027-05-31");
  await page.getByLabel("To", { exact: true }).fill("2027-06-02");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByText("No meetings with Web Scheduler join information in this period.").waitFor();
  assert.equal(await page.getByRole("link", { name: SUBJECT }).count(), 0);
  assert.deepEqual((await mailbox(ADELE)).filter((e) => e.subject === SUBJECT), []);
  await screenshot(page, "web-6-cancelled");

  assert.deepEqual(errors, []);
  assert.deepEqual(refused, [], "no third-party origins");
  assert.ok(requests.every((u) => new URL(u).origin === backend.origin));
  await ctx.close();
});

test("no serious accessibility violations (axe-core), light in English and dark in German; keyboard only", async () => {
  const axe = readFileSync(path.join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
  for (const [user, name] of [
    [ADELE, "light"],
    [ALEX, "dark-de"], // Alex's preferredLanguage is de-DE
  ]) {
    const { ctx } = await newContext(browser, backend, { colorScheme: name === "light" ? "light" : "dark" });
    const page = await ctx.newPage();
    await page.goto(`${backend.origin}/meetings/new`);
    await page.getByRole("button", { name: new RegExp(user) }).click();
    await page.waitForURL(/\/meetings\/new$/);
    const check = async (/** @type {string} */ state) => {
      await page.evaluate(axe); // over DevTools, so the page's CSP does not stop it
      const result = await page.evaluate(() => window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }));
      const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`), [], `${name}/${state}`);
      await screenshot(page, `web-7-${name}-${state}`);
    };
    await check("form");
    // Keyboard only: Tab reaches the subject, Enter submits the form.
    await page.locator("form.signout button").focus();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "subject");
    await page.keyboard.type("Keyboard only");
    await page.keyboard.press("Enter");
    await page.locator("#conference-id").waitFor();
    await check("details");
    await ctx.close();
  }
});

// The task pane: add, update or remove the appointment's online meeting,
// choose its options and see the join information the invitation carries.

import { getMe, getMeeting, ApiError } from "./api.js";
import { signInWithDialog } from "./auth.js";
import { currentAppointment, loadState } from "./compose.js";
import { describeError, loadStrings } from "./i18n.js";
import { addMeeting, removeMeeting } from "./meeting.js";

/** @typedef {import("./api.js").Meeting} Meeting */
/** @typedef {import("./api.js").MeetingOptions} MeetingOptions */
/** @typedef {import("./i18n.js").Translate} Translate */
/** @typedef {import("./i18n.js").StringKey} StringKey */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
const $ = (id) => /** @type {T} */ (document.getElementById(id));

const ui = {
  main: $("main"),
  status: $("status"),
  spinner: $("spinner"),
  statusText: $("status-text"),
  offline: $("offline"),
  alert: $("alert"),
  alertText: $("alert-text"),
  alertCode: $("alert-code"),
  alertAction: /** @type {HTMLButtonElement} */ ($("alert-action")),
  intro: $("intro"),
  preview: $("preview"),
  joinUrl: /** @type {HTMLAnchorElement} */ ($("join-url")),
  conferenceId: $("conference-id"),
  passcodeLabel: $("passcode-label"),
  passcode: $("passcode"),
  dialInTitle: $("dial-in-title"),
  dialIn: $("dial-in"),
  joinText: $("join-text"),
  form: /** @type {HTMLFormElement} */ ($("form")),
  lobby: /** @type {HTMLSelectElement} */ ($("lobby")),
  phoneBypass: /** @type {HTMLInputElement} */ ($("phone-bypass")),
  presenters: /** @type {HTMLSelectElement} */ ($("presenters")),
  add: /** @type {HTMLButtonElement} */ ($("add")),
  update: /** @type {HTMLButtonElement} */ ($("update")),
  remove: /** @type {HTMLButtonElement} */ ($("remove")),
  footer: $("footer"),
};

const named = /** @type {HTMLOptionElement} */ (ui.presenters.querySelector('option[value="named"]'));

/** @type {Translate} */
let t = (key) => key;
/** @type {Meeting | null} */
let meeting = null;
let busy = false;

/**
 * Shows progress (spinner) or a settled message in the live region.
 * @param {StringKey | null} key  null hides the region
 * @param {boolean} [progress]
 */
function setStatus(key, progress = false) {
  ui.status.hidden = key === null;
  ui.spinner.hidden = !progress;
  ui.statusText.textContent = key ? t(key) : "";
  ui.main.setAttribute("aria-busy", String(progress));
}

/**
 * Shows an error with its code and the way out: sign in, or try again.
 * @param {unknown} err
 * @param {() => Promise<void>} again
 */
function showError(err, again) {
  const d = describeError(err, t);
  setStatus(null);
  ui.alertText.textContent = d.text;
  ui.alertCode.textContent = t("error.code", { code: d.code });
  ui.alertAction.textContent = t(d.signIn ? "signIn" : "retry");
  ui.alertAction.onclick = async () => {
    ui.alert.hidden = true;
    if (d.signIn) {
      try {
        await signInWithDialog();
      } catch (e) {
        showError(e, again);
        return;
      }
    }
    await again();
  };
  ui.alert.hidden = false;
}

/** Shows the meeting (or its absence) and the buttons that fit. */
function render() {
  const has = meeting !== null;
  ui.intro.hidden = has;
  ui.preview.hidden = !has;
  ui.add.hidden = has;
  ui.update.hidden = !has;
  ui.remove.hidden = !has;
  for (const b of [ui.add, ui.update, ui.remove]) b.disabled = busy;
  if (!meeting) return;
  ui.joinUrl.href = meeting.joinUrl;
  ui.joinUrl.textContent = meeting.joinUrl;
  ui.conferenceId.textContent = meeting.conferenceId;
  ui.passcode.textContent = meeting.passcode || "";
  ui.passcode.hidden = ui.passcodeLabel.hidden = !meeting.passcode;
  const dialIn = meeting.dialIn || [];
  ui.dialInTitle.hidden = ui.dialIn.hidden = dialIn.length === 0;
  ui.dialIn.replaceChildren(
    ...dialIn.map((d) => {
      const li = document.createElement("li");
      const number = document.createElement("span");
      number.textContent = d.tollFree ? `${d.number} (${t("tollFree")})` : d.number;
      const region = document.createElement("span");
      region.className = "region";
      region.textContent = [d.region, d.language].filter(Boolean).join(", ");
      li.append(number, region);
      return li;
    }),
  );
  ui.joinText.textContent = meeting.joinInfo?.text || "";
  const o = meeting.options;
  if (o?.lobby) ui.lobby.value = o.lobby;
  if (o?.phoneBypass !== undefined) ui.phoneBypass.checked = o.phoneBypass;
  // Named presenters are chosen elsewhere (the web page); the pane keeps them.
  named.hidden = o?.presenters !== "named";
  if (o?.presenters) ui.presenters.value = o.presenters;
}

/** @returns {MeetingOptions} */
function formOptions() {
  const presenters = /** @type {MeetingOptions["presenters"]} */ (ui.presenters.value);
  return {
    lobby: /** @type {MeetingOptions["lobby"]} */ (ui.lobby.value),
    phoneBypass: ui.phoneBypass.checked,
    presenters,
    presenterList: presenters === "named" ? meeting?.options?.presenterList : undefined,
  };
}

/**
 * Runs a user's action with progress, error and focus handling.
 * @param {StringKey} doing
 * @param {StringKey} done
 * @param {() => Promise<Meeting | null>} action
 */
async function act(doing, done, action) {
  if (busy) return;
  busy = true;
  ui.alert.hidden = true;
  setStatus(doing, true);
  render();
  try {
    meeting = await action();
    setStatus(done);
  } catch (err) {
    showError(err, () => act(doing, done, action));
  } finally {
    busy = false;
    render();
  }
  // The clicked button may have been hidden; keep keyboard focus in the form.
  if (!document.activeElement || document.activeElement === document.body) (meeting ? ui.update : ui.add).focus();
}

/** Loads what the pane shows when it opens: the item's meeting and the user. */
async function load() {
  const item = currentAppointment();
  const { state } = await loadState(item);
  // No dialog here: a window that no click asked for would be blocked.
  const [me, m] = await Promise.all([
    getMe("prompt").catch(() => null),
    state.meetingId
      ? getMeeting(state.meetingId, "prompt").catch((err) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        })
      : null,
  ]);
  meeting = m;
  const name = me?.displayName || me?.mail || me?.userPrincipalName;
  ui.footer.textContent = name ? t("signedInAs", { name }) : "";
}

/** @param {Office.OfficeTheme | undefined} theme */
function applyTheme(theme) {
  const bg = theme?.bodyBackgroundColor;
  if (!bg || !/^#[0-9a-f]{6}$/i.test(bg)) return;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(bg.slice(i, i + 2), 16));
  const dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.documentElement.style.setProperty("--bg", bg);
  if (theme?.bodyForegroundColor) document.documentElement.style.setProperty("--fg", theme.bodyForegroundColor);
}

/** @param {string} locale */
function translatePage(locale) {
  document.documentElement.lang = locale;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(/** @type {StringKey} */ (/** @type {HTMLElement} */ (el).dataset.i18n));
  }
}

function watchConnection() {
  const update = () => (ui.offline.hidden = navigator.onLine);
  addEventListener("online", update);
  addEventListener("offline", update);
  update();
}

async function start() {
  await Office.onReady();
  applyTheme(Office.context.officeTheme);
  const strings = await loadStrings(Office.context.displayLanguage);
  t = strings.t;
  translatePage(strings.locale);
  watchConnection();

  ui.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const updating = meeting !== null;
    act(updating ? "status.updating" : "status.adding", updating ? "status.updated" : "status.added", () =>
      addMeeting(currentAppointment(), { options: formOptions(), interaction: "dialog" }),
    );
  });
  ui.remove.addEventListener("click", () =>
    act("status.removing", "status.removed", async () => {
      await removeMeeting(currentAppointment(), { interaction: "dialog" });
      return null;
    }),
  );

  const open = async () => {
    setStatus("status.loading", true);
    busy = true;
    render();
    try {
      await load();
      setStatus(null);
    } catch (err) {
      showError(err, open);
    } finally {
      busy = false;
      render();
    }
  };
  await open();
}

start();

// Strings for the pane and the command, one module per locale, picked from
// Outlook's display language. English is always loaded, so a string that a
// locale lacks, or a locale that cannot load (offline), falls back to it.

import en from "./i18n/en-US.js";

export const LOCALES = ["en-US", "de-DE", "fr-FR", "ja-JP"];

/**
 * The supported locale closest to lang: the same tag, else the same
 * language, else en-US.
 * @param {string | undefined} lang
 */
export function pickLocale(lang) {
  const l = (lang || "").toLowerCase();
  return LOCALES.find((x) => x.toLowerCase() === l) || LOCALES.find((x) => x.slice(0, 2).toLowerCase() === l.slice(0, 2)) || "en-US";
}

/** @typedef {keyof typeof en} StringKey */
/** @typedef {(key: StringKey, vars?: Record<string, string>) => string} Translate */

/**
 * Loads the strings of lang's locale.
 * @param {string | undefined} lang
 * @returns {Promise<{locale: string, t: Translate}>}
 */
export async function loadStrings(lang) {
  let locale = pickLocale(lang);
  /** @type {Partial<Record<StringKey, string>>} */
  let strings = {};
  if (locale !== "en-US") {
    try {
      strings = (await import(`./i18n/${locale}.js`)).default;
    } catch {
      locale = "en-US";
    }
  }
  return {
    locale,
    t: (key, vars = {}) => (strings[key] ?? en[key]).replace(/\{(\w+)\}/g, (m, name) => vars[name] ?? m),
  };
}

/**
 * What to tell the user about an error from the API, sign-in or Outlook:
 * a sentence, the code to quote to the helpdesk, and whether signing in
 * (rather than trying again) is the way out.
 * @param {unknown} err
 * @param {Translate} t
 * @returns {{text: string, code: string, signIn: boolean}}
 */
export function describeError(err, t) {
  const e = /** @type {{name?: string, code?: string | number, message?: string, status?: number}} */ (err ?? {});
  const code = String(e.code ?? "internal");
  /** @type {Record<string, StringKey>} */
  const known = {
    offline: "error.offline",
    timeout: "error.timeout",
    network: "error.network",
    unavailable: "error.unavailable",
    sign_in_required: "error.signIn",
    sign_in_cancelled: "error.signInCancelled",
    dialog_blocked: "error.dialogBlocked",
    sso_failed: "error.sso",
    not_appointment: "error.notAppointment",
  };
  // A 401, or Graph consent missing: the sign-in dialog asks for both.
  const signIn = e.name === "AuthError" || e.status === 401 || code === "consent_required";
  if (known[code]) return { text: t(known[code]), code, signIn };
  if (e.name === "OfficeError") return { text: t("error.outlook"), code, signIn };
  // The backend's own sentence says what went wrong; ours says where.
  return { text: e.message ? `${t("error.service")} ${e.message}` : t("error.service"), code, signIn };
}

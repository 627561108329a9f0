// Calls the Web Scheduler API (DESIGN §4) with the user's token, a time
// limit, and errors mapped to one type the UI can explain.

import { forgetCredential, getToken } from "./auth.js";

/** @typedef {import("./auth.js").Interaction} Interaction */

// Event handlers must finish well inside Outlook's limit, and a person
// waiting on the pane should not wait longer than this for one call.
const TIMEOUT_MS = 15_000;

export class ApiError extends Error {
  /**
   * @param {string} code  the backend's error code, or offline | timeout | network | unavailable
   * @param {string} message
   * @param {number} [status]
   */
  constructor(code, message, status = 0) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/**
 * @typedef {object} DialIn
 * @property {string} region
 * @property {string} number
 * @property {string} language
 * @property {boolean} tollFree
 */

/**
 * @typedef {object} MeetingOptions
 * @property {"organizer" | "invited" | "company" | "everyone"} [lobby]
 * @property {boolean} [phoneBypass]
 * @property {"organizer" | "company" | "everyone" | "named"} [presenters]
 * @property {string[]} [presenterList]  addresses, with presenters "named"
 */

/**
 * @typedef {object} Meeting
 * @property {string} id
 * @property {string} conferenceId
 * @property {string} joinUrl
 * @property {DialIn[]} [dialIn]
 * @property {string} [passcode]
 * @property {{html: string, text: string}} joinInfo
 * @property {string} location
 * @property {MeetingOptions} [options]
 * @property {string} [eventId]
 */

/**
 * What POST /meetings takes (all of it) and PATCH (start, end, options,
 * attendees, locale). locale is the language of the join information.
 * @typedef {object} MeetingFields
 * @property {string} [subject]
 * @property {string} [start]
 * @property {string} [end]
 * @property {string} [timeZone]
 * @property {string[]} [attendees]
 * @property {MeetingOptions} [options]
 * @property {string} [locale]
 */

/**
 * @param {string} method
 * @param {string} path  below /api/v1/
 * @param {{body?: unknown, idempotencyKey?: string, interaction: Interaction}} opts
 * @returns {Promise<any>}
 */
export async function request(method, path, opts) {
  // Offline, sign-in fails too, with errors that do not say why.
  if (offline()) throw new ApiError("offline", "You are offline.");
  const token = await getToken(opts.interaction);
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  /** @type {Response} */
  let res;
  try {
    res = await fetch(new URL(`/api/v1/${path}`, location.origin), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: ctl.signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (err) {
    if (ctl.signal.aborted) throw new ApiError("timeout", "The service did not answer in time.");
    throw new ApiError(offline() ? "offline" : "network", String(/** @type {Error} */ (err)?.message || err));
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  if (res.status === 401) forgetCredential();
  const e = data?.error;
  if (e?.code) throw new ApiError(e.code, e.message || "", res.status);
  throw new ApiError(res.status >= 502 && res.status <= 504 ? "unavailable" : "internal", `HTTP ${res.status}`, res.status);
}

function offline() {
  return globalThis.navigator?.onLine === false;
}

/** @param {Interaction} interaction */
export function getMe(interaction) {
  return request("GET", "me", { interaction });
}

/**
 * The admin's add-in policy.
 * @param {Interaction} interaction
 * @returns {Promise<{autoAdd: boolean}>}
 */
export function getAddinSettings(interaction) {
  return request("GET", "settings/addin", { interaction });
}

/**
 * @param {MeetingFields} fields
 * @param {string} idempotencyKey
 * @param {Interaction} interaction
 * @returns {Promise<Meeting>}
 */
export function createMeeting(fields, idempotencyKey, interaction) {
  return request("POST", "meetings", { body: fields, idempotencyKey, interaction });
}

/**
 * @param {string} id
 * @param {Interaction} interaction
 * @returns {Promise<Meeting>}
 */
export function getMeeting(id, interaction) {
  return request("GET", `meetings/${encodeURIComponent(id)}`, { interaction });
}

/**
 * @param {string} id
 * @param {MeetingFields} fields
 * @param {Interaction} interaction
 * @returns {Promise<Meeting>}
 */
export function updateMeeting(id, fields, interaction) {
  return request("PATCH", `meetings/${encodeURIComponent(id)}`, { body: fields, interaction });
}

/**
 * @param {string} id
 * @param {Interaction} interaction
 */
export function deleteMeeting(id, interaction) {
  return request("DELETE", `meetings/${encodeURIComponent(id)}`, { interaction });
}

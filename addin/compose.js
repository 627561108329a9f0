// Reads and writes the appointment being composed through Office.js. The
// item may be unsaved, so join information goes into it from here rather
// than through Graph.

import { findBlock, removeBlock, replaceBlock } from "./joinblock.js";

// The custom properties that remember this item's meeting across runs of
// the pane, the command and the event handlers.
const PROPS = {
  meetingId: "webschedulerMeetingId",
  // The Idempotency-Key of a create that may not have finished.
  pendingKey: "webschedulerPendingKey",
  // The location we added, so that Remove takes out only ours.
  location: "webschedulerLocation",
};

/** @typedef {Office.AppointmentCompose} Appointment */
/** @typedef {import("./joinblock.js").BodyType} BodyType */

/**
 * An Office error from an item call, with its name kept as the code.
 */
export class OfficeError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "OfficeError";
    this.code = code;
  }
}

/**
 * Turns an Office.js callback call into a promise.
 * @template T
 * @param {(callback: (result: Office.AsyncResult<T>) => void) => void} call
 * @returns {Promise<T>}
 */
export function officeAsync(call) {
  return new Promise((resolve, reject) => {
    call((result) => {
      if (result.status === Office.AsyncResultStatus.Succeeded) resolve(result.value);
      else reject(new OfficeError(result.error?.name || "office_error", result.error?.message || "Outlook could not complete the request."));
    });
  });
}

/** @returns {Appointment} */
export function currentAppointment() {
  const item = Office.context.mailbox?.item;
  if (!item || item.itemType !== Office.MailboxEnums.ItemType.Appointment || typeof (/** @type {any} */ (item).body?.setAsync) !== "function") {
    throw new OfficeError("not_appointment", "This is not an appointment you organize.");
  }
  return /** @type {Appointment} */ (/** @type {unknown} */ (item));
}

/**
 * The fields of the meeting that the backend keeps.
 * @typedef {object} ItemFields
 * @property {string} subject
 * @property {string} start  RFC 3339
 * @property {string} end
 * @property {string} timeZone
 * @property {string[]} attendees
 */

/**
 * @param {Appointment} item
 * @returns {Promise<ItemFields>}
 */
export async function readFields(item) {
  const [subject, start, end, attendees] = await Promise.all([
    officeAsync((cb) => item.subject.getAsync(cb)),
    officeAsync((cb) => item.start.getAsync(cb)),
    officeAsync((cb) => item.end.getAsync(cb)),
    readAttendees(item),
  ]);
  return { subject, start: start.toISOString(), end: end.toISOString(), timeZone: timeZone(), attendees };
}

/**
 * @param {Appointment} item
 * @returns {Promise<{start: string, end: string}>}
 */
export async function readTimes(item) {
  const [start, end] = await Promise.all([officeAsync((cb) => item.start.getAsync(cb)), officeAsync((cb) => item.end.getAsync(cb))]);
  return { start: start.toISOString(), end: end.toISOString() };
}

/**
 * The required and optional attendees' addresses, without duplicates.
 * @param {Appointment} item
 */
export async function readAttendees(item) {
  const lists = await Promise.all([
    officeAsync((cb) => item.requiredAttendees.getAsync(cb)),
    officeAsync((cb) => item.optionalAttendees.getAsync(cb)),
  ]);
  return [...new Set(lists.flat().map((a) => a.emailAddress).filter(Boolean))];
}

function timeZone() {
  return Office.context.mailbox.userProfile?.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * @typedef {object} ItemState
 * @property {string} meetingId
 * @property {string} pendingKey
 * @property {string} location
 */

/**
 * This item's meeting, from its custom properties.
 * @param {Appointment} item
 * @returns {Promise<{props: Office.CustomProperties, state: ItemState}>}
 */
export async function loadState(item) {
  const props = await officeAsync((cb) => item.loadCustomPropertiesAsync(cb));
  /** @type {ItemState} */
  const state = { meetingId: "", pendingKey: "", location: "" };
  for (const key of /** @type {(keyof ItemState)[]} */ (Object.keys(PROPS))) state[key] = props.get(PROPS[key]) || "";
  return { props, state };
}

/**
 * Saves the given parts of the state; "" removes a part.
 * @param {Office.CustomProperties} props
 * @param {Partial<ItemState>} state
 */
export async function saveState(props, state) {
  for (const key of /** @type {(keyof ItemState)[]} */ (Object.keys(state))) {
    const value = state[key];
    if (value) props.set(PROPS[key], value);
    else props.remove(PROPS[key]);
  }
  await officeAsync((cb) => props.saveAsync(cb));
}

/**
 * The body's type: Outlook composes either HTML or plain text.
 * @param {Appointment} item
 * @returns {Promise<BodyType>}
 */
async function bodyType(item) {
  const t = await officeAsync((cb) => item.body.getTypeAsync(cb));
  return t === Office.CoercionType.Text ? "text" : "html";
}

/**
 * Puts the join block into the body, replacing the one already there.
 * With onlyIfPresent, a body without a block (the organizer deleted it)
 * is left as it is.
 * @param {Appointment} item
 * @param {{html: string, text: string}} joinInfo
 * @param {{onlyIfPresent?: boolean}} [opts]
 * @returns {Promise<boolean>} whether the body changed
 */
export async function writeJoinInfo(item, joinInfo, opts = {}) {
  return editBody(item, (body, type) => {
    if (opts.onlyIfPresent && !findBlock(body, type)) return body;
    return replaceBlock(body, type, type === "text" ? joinInfo.text : joinInfo.html);
  });
}

/**
 * Cuts the join block out of the body.
 * @param {Appointment} item
 */
export function removeJoinInfo(item) {
  return editBody(item, removeBlock);
}

/**
 * @param {Appointment} item
 * @param {(body: string, type: BodyType) => string} edit
 */
async function editBody(item, edit) {
  const type = await bodyType(item);
  const coercionType = type === "text" ? Office.CoercionType.Text : Office.CoercionType.Html;
  const body = await officeAsync((cb) => item.body.getAsync(coercionType, cb));
  const next = edit(body, type);
  if (next === body) return false;
  await officeAsync((cb) => item.body.setAsync(next, { coercionType }, cb));
  return true;
}

// Location: ours is added to what the organizer typed (a room, say) with
// "; " as Outlook separates locations, and only ours is taken out again.

/**
 * @param {Appointment} item
 * @param {string} location
 */
export async function addLocation(item, location) {
  if (!location) return;
  const current = await officeAsync((cb) => item.location.getAsync(cb));
  const parts = splitLocation(current);
  if (parts.includes(location)) return;
  await officeAsync((cb) => item.location.setAsync([...parts, location].join("; "), cb));
}

/**
 * @param {Appointment} item
 * @param {string} location
 */
export async function removeLocation(item, location) {
  if (!location) return;
  const current = await officeAsync((cb) => item.location.getAsync(cb));
  const parts = splitLocation(current);
  if (!parts.includes(location)) return;
  await officeAsync((cb) => item.location.setAsync(parts.filter((p) => p !== location).join("; "), cb));
}

/** @param {string} location */
function splitLocation(location) {
  return (location || "").split(";").map((p) => p.trim()).filter(Boolean);
}

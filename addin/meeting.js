// What the pane, the command and the event handlers do to an appointment:
// add, update, sync and remove its online meeting. Every step is safe to
// repeat: the item remembers its meeting ID, a create carries an
// Idempotency-Key that is saved before the request, and the join block is
// replaced, never added twice.

import { ApiError, createMeeting, deleteMeeting, updateMeeting } from "./api.js";
import { addLocation, loadState, readFields, removeJoinInfo, removeLocation, saveState, writeJoinInfo } from "./compose.js";

/** @typedef {import("./api.js").Meeting} Meeting */
/** @typedef {import("./api.js").MeetingFields} MeetingFields */
/** @typedef {import("./api.js").MeetingOptions} MeetingOptions */
/** @typedef {import("./compose.js").Appointment} Appointment */

/** @type {Promise<unknown>} */
let queue = Promise.resolve();

/**
 * Runs f after every earlier operation of this runtime has finished, so
 * a double click cannot interleave two read-modify-write cycles.
 * @template T
 * @param {() => Promise<T>} f
 * @returns {Promise<T>}
 */
function serialized(f) {
  const run = queue.then(f, f);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Adds the online meeting to the item, or brings an existing one up to
 * date: then its options and times are sent again and the block is
 * rewritten in place. With fresh (a new item), a meeting ID in the item
 * came with a copy of another appointment and is not this item's.
 * @param {Appointment} item
 * @param {{options?: MeetingOptions, interaction: import("./auth.js").Interaction, fresh?: boolean}} opts
 * @returns {Promise<Meeting>}
 */
export function addMeeting(item, { options, interaction, fresh = false }) {
  return serialized(async () => {
    const [{ props, state }, fields] = await Promise.all([loadState(item), readFields(item)]);
    if (fresh) state.meetingId = state.pendingKey = "";
    /** @type {MeetingFields} */
    const body = { ...fields, locale: locale() };
    if (options) body.options = options;
    /** @type {Meeting | null} */
    let m = null;
    if (state.meetingId) {
      try {
        m = await updateMeeting(state.meetingId, { start: body.start, end: body.end, options, locale: body.locale }, interaction);
      } catch (err) {
        // Deleted elsewhere (or expired): start a new one.
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    }
    if (!m) {
      const key = state.pendingKey || newKey();
      if (!state.pendingKey) await saveState(props, { pendingKey: key });
      m = await createMeeting(body, key, interaction);
    }
    await saveState(props, { meetingId: m.id, pendingKey: "", location: m.location || "" });
    await writeJoinInfo(item, m.joinInfo);
    if (state.location && state.location !== m.location) await removeLocation(item, state.location);
    await addLocation(item, m.location);
    return m;
  });
}

/**
 * Sends changed times or attendees of an item that has a meeting, and
 * refreshes its block if the organizer kept one. Does nothing otherwise.
 * @param {Appointment} item
 * @param {(item: Appointment) => Promise<MeetingFields>} read  what changed
 * @returns {Promise<Meeting | null>}
 */
export function syncMeeting(item, read) {
  return serialized(async () => {
    const { state } = await loadState(item);
    if (!state.meetingId) return null;
    const m = await updateMeeting(state.meetingId, { ...(await read(item)), locale: locale() }, "none");
    await writeJoinInfo(item, m.joinInfo, { onlyIfPresent: true });
    return m;
  });
}

/**
 * Frees the conference and takes its block and location out of the item.
 * @param {Appointment} item
 * @param {{interaction: import("./auth.js").Interaction}} opts
 */
export function removeMeeting(item, { interaction }) {
  return serialized(async () => {
    const { props, state } = await loadState(item);
    if (state.meetingId) {
      try {
        await deleteMeeting(state.meetingId, interaction);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    }
    await removeJoinInfo(item);
    await removeLocation(item, state.location);
    await saveState(props, { meetingId: "", pendingKey: "", location: "" });
  });
}

/** The join information's language: the organizer's Outlook's. */
function locale() {
  return Office.context.displayLanguage || "en-US";
}

/** A fresh Idempotency-Key (getRandomValues works outside secure contexts too). */
function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

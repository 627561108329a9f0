// Event-based handlers. Outlook runs them without a pane, so they never
// prompt, and they always call event.completed, well inside the platform's
// time limit: a failed update leaves the item as it was.

import { getAddinSettings } from "./api.js";
import { currentAppointment, readAttendees, readTimes } from "./compose.js";
import { addMeeting, syncMeeting } from "./meeting.js";

// Outlook allows a handler a few minutes at most; our own limit is far
// shorter, and each API call has its own time-out below it.
const HANDLER_LIMIT_MS = 45_000;

/**
 * Runs work and then completes the event, whatever happens.
 * @param {Office.AddinCommands.Event} event
 * @param {() => Promise<unknown>} work
 */
async function handle(event, work) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  try {
    await Promise.race([work(), new Promise((resolve) => (timer = setTimeout(resolve, HANDLER_LIMIT_MS)))]);
  } catch (err) {
    console.warn("webscheduler: event handler failed", /** @type {{code?: string}} */ (err)?.code || err);
  } finally {
    clearTimeout(timer);
    event.completed();
  }
}

/**
 * A new appointment: add join information when the admin's policy says so.
 * @param {Office.AddinCommands.Event} event
 */
export function onNewAppointmentOrganizer(event) {
  return handle(event, async () => {
    const item = currentAppointment();
    const { autoAdd } = await getAddinSettings("none");
    if (autoAdd) await addMeeting(item, { interaction: "none", fresh: true });
  });
}

/** @param {Office.AddinCommands.Event} event */
export function onAppointmentTimeChanged(event) {
  return handle(event, () => syncMeeting(currentAppointment(), readTimes));
}

/** @param {Office.AddinCommands.Event} event */
export function onAppointmentAttendeesChanged(event) {
  return handle(event, () => syncMeeting(currentAppointment(), async (item) => ({ attendees: await readAttendees(item) })));
}

/** @param {Office.AddinCommands.Event} event */
export function onAppointmentRecurrenceChanged(event) {
  return handle(event, () => syncMeeting(currentAppointment(), readTimes));
}

Office.actions.associate("onNewAppointmentOrganizer", onNewAppointmentOrganizer);
Office.actions.associate("onAppointmentTimeChanged", onAppointmentTimeChanged);
Office.actions.associate("onAppointmentAttendeesChanged", onAppointmentAttendeesChanged);
Office.actions.associate("onAppointmentRecurrenceChanged", onAppointmentRecurrenceChanged);

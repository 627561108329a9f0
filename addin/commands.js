// The ribbon button that adds the online meeting in one click, and the
// same action for Outlook mobile's online-meeting surface.

import { currentAppointment } from "./compose.js";
import { describeError, loadStrings } from "./i18n.js";
import { addMeeting } from "./meeting.js";

// One notification, replaced as the command goes on.
const NOTIFICATION_KEY = "webscheduler";

/**
 * @param {Office.AppointmentCompose} item
 * @param {Office.NotificationMessageDetails} details
 */
function notify(item, details) {
  return new Promise((resolve) => item.notificationMessages.replaceAsync(NOTIFICATION_KEY, details, resolve));
}

/** @param {Office.AddinCommands.Event} event */
export async function addMeetingCommand(event) {
  const { t } = await loadStrings(Office.context.displayLanguage);
  /** @type {Office.AppointmentCompose | null} */
  let item = null;
  try {
    item = currentAppointment();
    await notify(item, { type: Office.MailboxEnums.ItemNotificationMessageType.ProgressIndicator, message: t("command.adding") });
    await addMeeting(item, { interaction: "dialog" });
    await notify(item, {
      type: Office.MailboxEnums.ItemNotificationMessageType.InformationalMessage,
      message: t("command.added"),
      icon: "Icon.16x16",
      persistent: false,
    });
  } catch (err) {
    const d = describeError(err, t);
    // Notification messages are limited to 150 characters.
    if (item) await notify(item, { type: Office.MailboxEnums.ItemNotificationMessageType.ErrorMessage, message: t("command.failed", { message: d.text, code: d.code }).slice(0, 150) });
  } finally {
    event.completed();
  }
}

Office.actions.associate("addMeetingCommand", addMeetingCommand);

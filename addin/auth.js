// Gets the token the add-in calls the backend with. Office's single sign-on
// comes first; when it fails (13xxx errors, or the API is missing) the pane
// signs in through an Office dialog instead: /addin/auth.html runs an
// authorization-code + PKCE sign-in at the backend and hands back a
// short-lived credential for our API. Neither is ever a Graph token: the
// backend exchanges it on behalf of the user.

/** What /addin/auth.html sends with Office.context.ui.messageParent. */
export const DIALOG_MESSAGE_TYPE = "webscheduler-auth";

export class AuthError extends Error {
  /**
   * @param {string} code  sso_failed | sign_in_required | sign_in_cancelled | dialog_blocked | or the backend's code
   * @param {string} message
   * @param {number} [officeCode]  the Office error number (13xxx, 12xxx)
   */
  constructor(code, message, officeCode) {
    super(message);
    this.name = "AuthError";
    this.code = code;
    this.officeCode = officeCode;
  }
}

/** @type {{token: string, expiresAt: number} | null} */
let dialogCredential = null;

// Dialog credentials are dropped this long before they expire, so a call
// never starts with one that runs out on the way.
const EXPIRY_MARGIN_MS = 30_000;

/**
 * How far getToken may go to sign the user in: "none" never prompts (event
 * handlers); "prompt" lets Office prompt but opens no dialog (a pane that
 * just opened, which no click has asked for a window yet); "dialog" also
 * falls back to the sign-in dialog (after a click).
 * @typedef {"none" | "prompt" | "dialog"} Interaction
 */

/**
 * Returns a bearer token for the backend, or throws an AuthError.
 * @param {Interaction} interaction
 * @returns {Promise<string>}
 */
export async function getToken(interaction) {
  if (dialogCredential && dialogCredential.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return dialogCredential.token;
  dialogCredential = null;
  try {
    if (!Office.auth?.getAccessToken) throw new AuthError("sso_failed", "Single sign-on is not supported here.");
    return await Office.auth.getAccessToken({
      allowSignInPrompt: interaction !== "none",
      allowConsentPrompt: interaction !== "none",
      forMSGraphAccess: false,
    });
  } catch (err) {
    const officeCode = Number(/** @type {{code?: unknown}} */ (err)?.code);
    const unsupported = err instanceof AuthError;
    if (!unsupported && !(officeCode >= 13000 && officeCode < 14000)) throw err;
    if (interaction !== "dialog") throw new AuthError("sign_in_required", "Sign in to Web Scheduler.", officeCode || undefined);
    return signInWithDialog();
  }
}

/** Forgets a dialog credential the backend no longer accepts. */
export function forgetCredential() {
  dialogCredential = null;
}

/**
 * Opens /addin/auth.html in an Office dialog and waits for its message:
 * {type: "webscheduler-auth", token, expiresIn} or
 * {type: "webscheduler-auth", error: {code, message}}.
 * @returns {Promise<string>}
 */
export function signInWithDialog() {
  const url = new URL("auth.html", location.href);
  const hint = Office.context.mailbox?.userProfile?.emailAddress;
  if (hint) url.searchParams.set("login_hint", hint);
  return new Promise((resolve, reject) => {
    Office.context.ui.displayDialogAsync(url.href, { height: 60, width: 30 }, (result) => {
      if (result.status !== Office.AsyncResultStatus.Succeeded) {
        // 12007: a dialog is already open; 12009/12011: the user or the browser blocked it.
        reject(new AuthError("dialog_blocked", result.error.message, result.error.code));
        return;
      }
      const dialog = result.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
        const msg = /** @type {{message: string, origin?: string}} */ (arg);
        if (msg.origin && msg.origin !== location.origin) return;
        /** @type {{type?: string, token?: string, expiresIn?: number, error?: {code?: string, message?: string}}} */
        let data;
        try {
          data = JSON.parse(msg.message);
        } catch {
          return;
        }
        if (data.type !== DIALOG_MESSAGE_TYPE) return;
        dialog.close();
        if (data.token) {
          dialogCredential = { token: data.token, expiresAt: Date.now() + (data.expiresIn || 300) * 1000 };
          resolve(data.token);
        } else {
          reject(new AuthError(data.error?.code || "sso_failed", data.error?.message || "Sign-in failed."));
        }
      });
      dialog.addEventHandler(Office.EventType.DialogEventReceived, (arg) => {
        // 12006: the user closed the dialog; 12002/12003: it could not load.
        const code = /** @type {{error: number}} */ (arg).error;
        reject(code === 12006 ? new AuthError("sign_in_cancelled", "Sign-in was cancelled.", code) : new AuthError("sso_failed", "The sign-in window could not load.", code));
      });
    });
  });
}

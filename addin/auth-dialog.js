// Runs in the sign-in dialog's last page, which the backend renders at
// /addin/auth.html once the authorization-code + PKCE sign-in is done. The
// page carries its result in
//   <script type="application/json" id="webscheduler-auth-result">
//     {"token": "…", "expiresIn": 600}   or   {"error": {"code": "…", "message": "…"}}
//   </script>
// (JSON is data, not script, so the page needs no inline script), and this
// hands it to the pane that opened the dialog.

import { DIALOG_MESSAGE_TYPE } from "./auth.js";

await Office.onReady();
const el = document.getElementById("webscheduler-auth-result");
/** @type {{token?: string, expiresIn?: number, error?: {code: string, message: string}}} */
let result;
try {
  result = JSON.parse(el?.textContent || "");
} catch {
  result = { error: { code: "sso_failed", message: "The sign-in page sent no result." } };
}
Office.context.ui.messageParent(JSON.stringify({ type: DIALOG_MESSAGE_TYPE, ...result }));

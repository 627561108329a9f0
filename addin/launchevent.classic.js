// Generated from joinblock.js, auth.js, api.js, compose.js, meeting.js, launchevent.js by `go test ./addin -run TestClassicRuntime -update`. Do not edit.
// Classic Outlook on Windows runs event handlers in a JavaScript-only runtime that loads one classic script.
(function () {
"use strict";

// ---- joinblock.js
// Finds, replaces and removes the join block in an item body. In compose
// mode the item may be unsaved, so the add-in edits the body itself; these
// are the rules of the backend's joininfo package (block.go, scan.go),
// ported line for line so that the pane and the backend agree on where a
// block is. joinblock_parity_test.go runs both on the same bodies.
//
// A block is delimited by visible markers at the end of an 80-underscore
// rule: "____…[webscheduler:<conference id>]" … "____…[/webscheduler]".
// Markers are looked for in the text a reader sees, because Exchange
// rewrites markup, but the block is cut out of the original string, and
// nothing else in the body changes.

const RULE_LEN = 80;
const MAX_ID_LEN = 128;
const BEGIN_STEM = "[webscheduler";
const END_MARKER = "[/webscheduler]";
const WRAPPER_ID = "webscheduler-joininfo";
const TEXT_SEPARATOR = "\r\n\r\n";

/** @typedef {"html" | "text"} BodyType */
/** @typedef {{start: number, end: number, id: string}} Region */
/**
 * @typedef {object} Item
 * @property {"text" | "start" | "end" | "other"} kind
 * @property {string} name  a tag's name in lower case
 * @property {number} start
 * @property {number} end
 * @property {boolean} void  a start tag that opens no element
 * @property {boolean} open  the body ends before the item does
 */

/**
 * Returns the join block's place in body, or null when there is none.
 * @param {string} body
 * @param {BodyType} type
 * @returns {Region | null}
 */
function findBlock(body, type) {
  return isText(type) ? markerPairs(body)[0] ?? null : locateHTML(body, scan(body));
}

/**
 * Puts block in place of the body's join block, or appends it after the
 * user's content: before </body> in HTML, after a blank line in text.
 * @param {string} body
 * @param {BodyType} type
 * @param {string} block  the rendered block (joinInfo.html or joinInfo.text)
 */
function replaceBlock(body, type, block) {
  if (isText(type)) {
    const r = markerPairs(body)[0];
    if (r) return body.slice(0, r.start) + block + body.slice(r.end);
    return body === "" ? block : body + TEXT_SEPARATOR + block;
  }
  const items = scan(body);
  const r = locateHTML(body, items);
  if (r) return body.slice(0, r.start) + block + body.slice(r.end);
  const at = insertionPoint(items, body.length);
  return body.slice(0, at) + block + body.slice(at);
}

/**
 * Cuts the join block out of body, with the blank line that replaceBlock
 * put before it in a text body.
 * @param {string} body
 * @param {BodyType} type
 */
function removeBlock(body, type) {
  const r = findBlock(body, type);
  if (!r) return body;
  let start = r.start;
  if (isText(type)) {
    for (const sep of [TEXT_SEPARATOR, "\n\n"]) {
      if (body.slice(0, start).endsWith(sep)) {
        start -= sep.length;
        break;
      }
    }
  }
  return body.slice(0, start) + body.slice(r.end);
}

/** @param {string} type */
function isText(type) {
  return type.toLowerCase() === "text";
}

/**
 * @param {string} body
 * @param {Item[]} items
 * @returns {Region | null}
 */
function locateHTML(body, items) {
  const v = project(body, items);
  /** @type {Region | null} */
  let first = null;
  for (const p of markerPairs(v.text)) {
    const r = expand(body, items, v.spans[p.start][0], v.spans[p.end - 1][1]);
    r.id = p.id;
    const it = items[itemAt(items, r.start)];
    if (it.kind === "start" && attr(body, it, "id") === WRAPPER_ID) return r;
    first ??= r;
  }
  return first;
}

/**
 * Each start marker followed by an end marker with no other start marker in
 * between. A start marker whose end marker was deleted is ignored.
 * @param {string} t
 * @returns {Region[]}
 */
function markerPairs(t) {
  /** @type {Region[]} */
  const pairs = [];
  let open = { start: -1, end: 0, id: "" };
  for (let i = 0; ; ) {
    i = t.indexOf("[", i);
    if (i < 0) return pairs;
    if (t.startsWith(END_MARKER, i)) {
      if (open.start >= 0) {
        pairs.push({ ...open, end: i + END_MARKER.length });
        open.start = -1;
      }
      i += END_MARKER.length;
      continue;
    }
    const m = beginMarker(t, i);
    if (m) {
      open = { start: ruleStart(t, i), end: 0, id: m.id };
      i += m.length;
      continue;
    }
    i++;
  }
}

/**
 * Parses a start marker at t[i].
 * @param {string} t
 * @param {number} i
 * @returns {{length: number, id: string} | null}
 */
function beginMarker(t, i) {
  if (!t.startsWith(BEGIN_STEM, i)) return null;
  const rest = t.slice(i + BEGIN_STEM.length, i + BEGIN_STEM.length + MAX_ID_LEN + 2);
  if (rest[0] === "]") return { length: BEGIN_STEM.length + 1, id: "" };
  if (rest[0] !== ":") return null;
  const k = rest.indexOf("]");
  if (k < 0 || /[ \t\r\n\f[]/.test(rest.slice(1, k))) return null;
  let id = rest.slice(1, k);
  try {
    id = decodeURIComponent(id.replace(/\+/g, " "));
  } catch {
    // Go's url.QueryUnescape also keeps the raw ID when it cannot decode it.
  }
  return { length: BEGIN_STEM.length + k + 1, id };
}

/**
 * Where the rule before the start marker at t[at] begins: at most one
 * rule's worth of underscores, so a user's underscores stay the user's.
 * @param {string} t
 * @param {number} at
 */
function ruleStart(t, at) {
  let start = at;
  for (let i = at - 1, n = 0; i >= 0 && n < RULE_LEN; i--) {
    if (t[i] === "_") {
      start = i;
      n++;
    } else if (!isSpace(t[i])) {
      return start;
    }
  }
  return start;
}

/**
 * Widens the markers' span [a, d) over the tags that wrap it with nothing
 * else in them, as far as they pair up. With broken markup it takes all of
 * them, so the result is the same whether or not the body was replaced.
 * @param {string} body
 * @param {Item[]} items
 * @param {number} a
 * @param {number} d
 * @returns {Region}
 */
function expand(body, items, a, d) {
  const i0 = itemAt(items, a);
  const i1 = itemAt(items, d - 1);
  /** @type {Item[]} */
  const before = []; // innermost first
  /** @type {Item[]} */
  const after = [];
  if (isBlank(body.slice(items[i0].start, a))) {
    for (let i = i0 - 1; i >= 0; i--) {
      const it = items[i];
      if (opens(it)) before.push(it);
      else if (it.kind !== "text" || !isBlank(body.slice(it.start, it.end))) break;
    }
  }
  if (isBlank(body.slice(d, items[i1].end))) {
    for (let i = i1 + 1; i < items.length; i++) {
      const it = items[i];
      if (closes(it)) after.push(it);
      else if (it.kind !== "text" || !isBlank(body.slice(it.start, it.end))) break;
    }
  }
  const n = nesting(i1 > i0 ? items.slice(i0 + 1, i1) : []);
  let ok = n !== null && before.length >= n.closes.length && after.length >= n.opens.length;
  for (let i = 0; ok && n && i < n.closes.length; i++) ok = before[i].name === n.closes[i];
  for (let i = 0; ok && n && i < n.opens.length; i++) ok = after[i].name === n.opens[n.opens.length - 1 - i];
  let k = n ? n.closes.length : 0;
  let m = n ? n.opens.length : 0;
  while (ok && k < before.length && m < after.length && before[k].name === after[m].name) {
    k++;
    m++;
  }
  if (!ok) {
    k = before.length;
    m = after.length;
  }
  return { start: k > 0 ? before[k - 1].start : a, end: m > 0 ? after[m - 1].end : d, id: "" };
}

/**
 * Pairs the tags in items: the end tags that close elements opened before
 * them, the start tags left open, or null when the tags cross.
 * @param {Item[]} items
 * @returns {{closes: string[], opens: string[]} | null}
 */
function nesting(items) {
  /** @type {string[]} */
  const closes = [];
  /** @type {string[]} */
  const opened = [];
  for (const it of items) {
    if (opens(it)) {
      opened.push(it.name);
    } else if (it.kind === "end") {
      if (opened.length === 0) closes.push(it.name);
      else if (opened[opened.length - 1] === it.name) opened.pop();
      else return null;
    }
  }
  return { closes, opens: opened };
}

/**
 * Where a new block goes in an HTML body: before the last </body> (or
 * </html>), else at the end, or before markup the body ends inside.
 * @param {Item[]} items
 * @param {number} end
 */
function insertionPoint(items, end) {
  for (const name of ["body", "html"]) {
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i].kind === "end" && items[i].name === name) return items[i].start;
    }
  }
  const last = items[items.length - 1];
  return last && last.open ? last.start : end;
}

// A small HTML tokenizer that separates text from markup as a browser's
// tokenizer does, keeping offsets.

const DOC_ELEMENTS = new Set(["html", "head", "body"]);
const VOID_ELEMENTS = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"]);
// Their contents are not markup, so they are kept with their tags as one item.
const RAW_TEXT_ELEMENTS = new Set(["iframe", "noembed", "noframes", "script", "style", "textarea", "title", "xmp"]);

/** @param {Item} it */
function opens(it) {
  return it.kind === "start" && !it.void && !it.open && !DOC_ELEMENTS.has(it.name);
}

/** @param {Item} it */
function closes(it) {
  return it.kind === "end" && !it.open && !DOC_ELEMENTS.has(it.name);
}

/**
 * Splits s into text and markup; every character is in exactly one item.
 * @param {string} s
 * @returns {Item[]}
 */
function scan(s) {
  /** @type {Item[]} */
  const items = [];
  let textStart = 0;
  for (let i = 0; i < s.length; ) {
    i = s.indexOf("<", i);
    if (i < 0) break;
    const it = markup(s, i);
    if (!it) {
      i++;
      continue;
    }
    if (textStart < i) items.push(item("text", "", textStart, i));
    items.push(it);
    i = textStart = it.end;
  }
  if (textStart < s.length) items.push(item("text", "", textStart, s.length));
  return items;
}

/**
 * @param {Item["kind"]} kind
 * @param {string} name
 * @param {number} start
 * @param {number} end
 * @returns {Item}
 */
function item(kind, name, start, end, open = false) {
  return { kind, name, start, end, void: false, open };
}

/**
 * Reads the markup at the "<" at s[i], or null when a browser reads it as text.
 * @param {string} s
 * @param {number} i
 */
function markup(s, i) {
  const c = s[i + 1] ?? "";
  if (s.startsWith("!--", i + 1)) return until(s, i, i + 2, "-->"); // "<!-->" ends at once
  if (c === "!" || c === "?") return until(s, i, i + 2, ">");
  if (c === "/") return isLetter(s[i + 2]) ? tag(s, i, "end") : until(s, i, i + 2, ">");
  if (isLetter(c)) {
    const it = tag(s, i, "start");
    return RAW_TEXT_ELEMENTS.has(it.name) && !it.open ? rawTextElement(s, it) : it;
  }
  return null;
}

/**
 * @param {string} s
 * @param {number} start
 * @param {number} from
 * @param {string} sep
 */
function until(s, start, from, sep) {
  const j = s.indexOf(sep, from);
  return j < 0 ? item("other", "", start, s.length, true) : item("other", "", start, j + sep.length);
}

/**
 * @param {string} s
 * @param {number} i
 * @param {"start" | "end"} kind
 */
function tag(s, i, kind) {
  const nameStart = i + (kind === "end" ? 2 : 1);
  const n = nameEnd(s, nameStart);
  const a = attributes(s, n);
  const it = item(kind, s.slice(nameStart, n).toLowerCase(), i, a.end, !a.ok);
  it.void = kind === "start" && (a.selfClosing || VOID_ELEMENTS.has(it.name));
  return it;
}

/**
 * @param {string} s
 * @param {number} i
 */
function nameEnd(s, i) {
  while (i < s.length && !isSpace(s[i]) && s[i] !== "/" && s[i] !== ">") i++;
  return i;
}

/**
 * Reads a tag's attributes from s[i] to its ">" as a browser does.
 * @param {string} s
 * @param {number} i
 * @param {(name: string, value: string) => void} [visit]
 * @returns {{end: number, selfClosing: boolean, ok: boolean}}
 */
function attributes(s, i, visit) {
  let slash = false;
  while (i < s.length) {
    const c = s[i];
    if (c === ">") return { end: i + 1, selfClosing: slash, ok: true };
    if (c === "/" || isSpace(c)) {
      slash = c === "/";
      i++;
      continue;
    }
    slash = false;
    let n = i + 1; // a name may begin with "="
    while (n < s.length && !isSpace(s[n]) && s[n] !== "/" && s[n] !== ">" && s[n] !== "=") n++;
    const name = s.slice(i, n);
    let value = "";
    i = skipSpace(s, n);
    if (s[i] === "=") {
      i = skipSpace(s, i + 1);
      if (s[i] === '"' || s[i] === "'") {
        const q = s.indexOf(s[i], i + 1);
        if (q < 0) return { end: s.length, selfClosing: false, ok: false };
        value = s.slice(i + 1, q);
        i = q + 1;
      } else {
        const v = i;
        while (i < s.length && !isSpace(s[i]) && s[i] !== ">") i++;
        value = s.slice(v, i);
      }
    }
    visit?.(name, value);
  }
  return { end: s.length, selfClosing: false, ok: false };
}

/**
 * A start tag's attribute value (only compared with a plain ID, so
 * character references in it are left alone).
 * @param {string} s
 * @param {Item} it
 * @param {string} name
 */
function attr(s, it, name) {
  let value = "";
  attributes(s.slice(0, it.end), nameEnd(s, it.start + 1), (n, v) => {
    if (n.toLowerCase() === name) value = v;
  });
  return value;
}

/**
 * Extends the start tag of a <style>, <script>… to its end tag.
 * @param {string} s
 * @param {Item} start
 */
function rawTextElement(s, start) {
  for (let i = start.end; ; i += 2) {
    i = s.indexOf("</", i);
    if (i < 0) return item("other", "", start.start, s.length, true);
    const n = i + 2 + start.name.length;
    const next = s[n];
    if (n <= s.length && s.slice(i + 2, n).toLowerCase() === start.name && (next === undefined || isSpace(next) || next === "/" || next === ">")) {
      const end = tag(s, i, "end");
      return item("other", "", start.start, end.end, end.open);
    }
  }
}

/**
 * The index of the item that holds offset off.
 * @param {Item[]} items
 * @param {number} off
 */
function itemAt(items, off) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].end > off) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The text a reader sees: references decoded, markup gone, each run of
 * white space one space. spans[i] is the part of s that text[i] comes from.
 * @param {string} s
 * @param {Item[]} items
 * @returns {{text: string, spans: [number, number][]}}
 */
function project(s, items) {
  let text = "";
  /** @type {[number, number][]} */
  const spans = [];
  let space = false;
  for (const it of items) {
    if (it.kind !== "text") continue;
    for (let i = it.start; i < it.end; ) {
      let t;
      let n;
      if (s[i] === "&") {
        [t, n] = reference(s.slice(i, it.end));
      } else {
        n = (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
        t = s.slice(i, i + n);
      }
      if (/^\s$/u.test(t)) {
        if (!space) {
          text += " ";
          spans.push([i, i + n]);
        }
        space = true;
      } else {
        text += t;
        for (let k = 0; k < t.length; k++) spans.push([i, i + n]);
        space = false;
      }
      i += n;
    }
  }
  return { text, spans };
}

// The named references that can stand for a marker's characters or for
// white space. Others stay as written: they cannot change where a block is.
/** @type {Record<string, string>} */
const NAMED = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", NonBreakingSpace: "\u00a0",
  Tab: "\t", NewLine: "\n", ensp: "\u2002", emsp: "\u2003", thinsp: "\u2009",
  lsqb: "[", lbrack: "[", rsqb: "]", rbrack: "]", lowbar: "_", UnderBar: "_", sol: "/", colon: ":", percnt: "%",
};

/**
 * Decodes the character reference at the start of s: what it stands for
 * and its length, or "&" and 1 when it is none.
 * @param {string} s
 * @returns {[string, number]}
 */
function reference(s) {
  const m = /^&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);?/.exec(s.slice(0, 41));
  if (!m) return ["&", 1];
  const ref = m[1];
  if (ref[0] === "#") {
    const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) return [String.fromCodePoint(cp), m[0].length];
    return ["\ufffd", m[0].length];
  }
  const named = NAMED[ref];
  if (named !== undefined && (m[0].endsWith(";") || /^(amp|lt|gt|quot|nbsp)$/.test(ref))) return [named, m[0].length];
  return ["&", 1];
}

/** @param {string | undefined} c */
function isLetter(c) {
  return c !== undefined && /^[A-Za-z]$/.test(c);
}

/** @param {string | undefined} c */
function isSpace(c) {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";
}

/**
 * @param {string} s
 * @param {number} i
 */
function skipSpace(s, i) {
  while (i < s.length && isSpace(s[i])) i++;
  return i;
}

/** @param {string} s */
function isBlank(s) {
  return skipSpace(s, 0) === s.length;
}

// ---- auth.js
// Gets the token the add-in calls the backend with. Office's single sign-on
// comes first; when it fails (13xxx errors, or the API is missing) the pane
// signs in through an Office dialog instead: /addin/auth.html runs an
// authorization-code + PKCE sign-in at the backend and hands back a
// short-lived credential for our API. Neither is ever a Graph token: the
// backend exchanges it on behalf of the user.

/** What /addin/auth.html sends with Office.context.ui.messageParent. */
const DIALOG_MESSAGE_TYPE = "webscheduler-auth";

class AuthError extends Error {
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
async function getToken(interaction) {
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
function forgetCredential() {
  dialogCredential = null;
}

/**
 * Opens /addin/auth.html in an Office dialog and waits for its message:
 * {type: "webscheduler-auth", token, expiresIn} or
 * {type: "webscheduler-auth", error: {code, message}}.
 * @returns {Promise<string>}
 */
function signInWithDialog() {
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

// ---- api.js
// Calls the Web Scheduler API (DESIGN §4) with the user's token, a time
// limit, and errors mapped to one type the UI can explain.


/** @typedef {import("./auth.js").Interaction} Interaction */

// Event handlers must finish well inside Outlook's limit, and a person
// waiting on the pane should not wait longer than this for one call.
const TIMEOUT_MS = 15_000;

class ApiError extends Error {
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
async function request(method, path, opts) {
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
function getMe(interaction) {
  return request("GET", "me", { interaction });
}

/**
 * The admin's add-in policy.
 * @param {Interaction} interaction
 * @returns {Promise<{autoAdd: boolean}>}
 */
function getAddinSettings(interaction) {
  return request("GET", "settings/addin", { interaction });
}

/**
 * @param {MeetingFields} fields
 * @param {string} idempotencyKey
 * @param {Interaction} interaction
 * @returns {Promise<Meeting>}
 */
function createMeeting(fields, idempotencyKey, interaction) {
  return request("POST", "meetings", { body: fields, idempotencyKey, interaction });
}

/**
 * @param {string} id
 * @param {Interaction} interaction
 * @returns {Promise<Meeting>}
 */
function getMeeting(id, interaction) {
  return request("GET", `meetings/${encodeURIComponent(id)}`, { interaction });
}

/**
 * @param {string} id
 * @param {MeetingFields} fields
 * @param {Interaction} interaction
 * @returns {Promise<Meeting>}
 */
function updateMeeting(id, fields, interaction) {
  return request("PATCH", `meetings/${encodeURIComponent(id)}`, { body: fields, interaction });
}

/**
 * @param {string} id
 * @param {Interaction} interaction
 */
function deleteMeeting(id, interaction) {
  return request("DELETE", `meetings/${encodeURIComponent(id)}`, { interaction });
}

// ---- compose.js
// Reads and writes the appointment being composed through Office.js. The
// item may be unsaved, so join information goes into it from here rather
// than through Graph.


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
class OfficeError extends Error {
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
function officeAsync(call) {
  return new Promise((resolve, reject) => {
    call((result) => {
      if (result.status === Office.AsyncResultStatus.Succeeded) resolve(result.value);
      else reject(new OfficeError(result.error?.name || "office_error", result.error?.message || "Outlook could not complete the request."));
    });
  });
}

/** @returns {Appointment} */
function currentAppointment() {
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
async function readFields(item) {
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
async function readTimes(item) {
  const [start, end] = await Promise.all([officeAsync((cb) => item.start.getAsync(cb)), officeAsync((cb) => item.end.getAsync(cb))]);
  return { start: start.toISOString(), end: end.toISOString() };
}

/**
 * The required and optional attendees' addresses, without duplicates.
 * @param {Appointment} item
 */
async function readAttendees(item) {
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
async function loadState(item) {
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
async function saveState(props, state) {
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
async function writeJoinInfo(item, joinInfo, opts = {}) {
  return editBody(item, (body, type) => {
    if (opts.onlyIfPresent && !findBlock(body, type)) return body;
    return replaceBlock(body, type, type === "text" ? joinInfo.text : joinInfo.html);
  });
}

/**
 * Cuts the join block out of the body.
 * @param {Appointment} item
 */
function removeJoinInfo(item) {
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
async function addLocation(item, location) {
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
async function removeLocation(item, location) {
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

// ---- meeting.js
// What the pane, the command and the event handlers do to an appointment:
// add, update, sync and remove its online meeting. Every step is safe to
// repeat: the item remembers its meeting ID, a create carries an
// Idempotency-Key that is saved before the request, and the join block is
// replaced, never added twice.


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
function addMeeting(item, { options, interaction, fresh = false }) {
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
function syncMeeting(item, read) {
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
function removeMeeting(item, { interaction }) {
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

// ---- launchevent.js
// Event-based handlers. Outlook runs them without a pane, so they never
// prompt, and they always call event.completed, well inside the platform's
// time limit: a failed update leaves the item as it was.


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
function onNewAppointmentOrganizer(event) {
  return handle(event, async () => {
    const item = currentAppointment();
    const { autoAdd } = await getAddinSettings("none");
    if (autoAdd) await addMeeting(item, { interaction: "none", fresh: true });
  });
}

/** @param {Office.AddinCommands.Event} event */
function onAppointmentTimeChanged(event) {
  return handle(event, () => syncMeeting(currentAppointment(), readTimes));
}

/** @param {Office.AddinCommands.Event} event */
function onAppointmentAttendeesChanged(event) {
  return handle(event, () => syncMeeting(currentAppointment(), async (item) => ({ attendees: await readAttendees(item) })));
}

/** @param {Office.AddinCommands.Event} event */
function onAppointmentRecurrenceChanged(event) {
  return handle(event, () => syncMeeting(currentAppointment(), readTimes));
}

Office.actions.associate("onNewAppointmentOrganizer", onNewAppointmentOrganizer);
Office.actions.associate("onAppointmentTimeChanged", onAppointmentTimeChanged);
Office.actions.associate("onAppointmentAttendeesChanged", onAppointmentAttendeesChanged);
Office.actions.associate("onAppointmentRecurrenceChanged", onAppointmentRecurrenceChanged);
})();

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
export function findBlock(body, type) {
  return isText(type) ? markerPairs(body)[0] ?? null : locateHTML(body, scan(body));
}

/**
 * Puts block in place of the body's join block, or appends it after the
 * user's content: before </body> in HTML, after a blank line in text.
 * @param {string} body
 * @param {BodyType} type
 * @param {string} block  the rendered block (joinInfo.html or joinInfo.text)
 */
export function replaceBlock(body, type, block) {
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
export function removeBlock(body, type) {
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

// The admin console: every read and write goes through /api/v1/admin, with
// the web session's cookie and its anti-forgery token, or a bearer token the
// admin pasted (kept for this tab only).
const root = document.getElementById("admin");
const $ = (id) => document.getElementById(id);
const status = (msg, isError) => {
  const el = $("status");
  el.textContent = msg;
  el.className = isError ? "error" : "";
};

let token = sessionStorage.getItem("ws-admin-token") || "";
let version = -1;
let templates = {};

/** @param {string} path @param {RequestInit & {json?: any}} [opts] */
async function api(path, opts = {}) {
  const headers = new Headers(opts.headers);
  if (root.dataset.mode === "session") headers.set("X-CSRF-Token", root.dataset.csrf);
  else headers.set("Authorization", "Bearer " + token);
  if (opts.json !== undefined) {
    headers.set("Content-Type", "application/json");
    opts.body = JSON.stringify(opts.json);
  }
  const resp = await fetch("/api/v1/admin" + path, { ...opts, headers, credentials: "same-origin" });
  if (!resp.ok) {
    let msg = resp.statusText;
    try { msg = (await resp.json()).error.message; } catch { /* not JSON */ }
    throw new Error(msg);
  }
  return resp;
}
const ifMatch = () => ({ "If-Match": '"' + version + '"' });

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  row.append(td);
  return td;
}

// The settings form is built from the settings themselves, field by field.
const fields = [
  ["settings.template.joinUrl", "Join URL template", "text"],
  ["settings.template.conferenceIdLength", "Conference ID length", "number"],
  ["settings.template.passcode.policy", "Passcode policy (none, optional, required)", "text"],
  ["settings.template.passcode.length", "Passcode length", "number"],
  ["settings.template.room", "Room template", "text"],
  ["settings.dialIn.url", "Find-a-local-number page", "url"],
  ["settings.helpUrl", "Help page", "url"],
  ["settings.jitsi.enabled", "Jitsi dial-in directory", "checkbox"],
  ["settings.jitsi.conferenceDomain", "Jitsi conference domain", "text"],
];
const get = (o, path) => path.split(".").reduce((v, k) => (v == null ? undefined : v[k]), o);
function set(o, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  for (const k of keys) o = o[k] ??= {};
  o[last] = value;
}

function renderSettings(body) {
  version = body.version;
  $("version").textContent = `Provider ${body.provider} · version ${body.version}` +
    (body.updatedBy ? ` · changed ${new Date(body.updated).toLocaleString()} by ${body.updatedBy}` : " · as in the settings file") +
    (body.problem ? ` · NOT APPLIED: ${body.problem}` : "");
  const form = $("settings-form");
  form.replaceChildren();
  for (const [path, label, type] of fields) {
    const l = document.createElement("label");
    l.textContent = label + " ";
    const input = document.createElement("input");
    input.type = type;
    input.name = path;
    const v = get(body, path);
    if (type === "checkbox") input.checked = !!v; else input.value = v ?? "";
    l.append(input);
    form.append(l);
  }
  const fs = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.textContent = "Dial-in numbers (region; country; number; language; toll-free yes/no), one per line";
  const ta = document.createElement("textarea");
  ta.name = "numbers";
  ta.rows = 6;
  ta.value = (body.settings.dialIn.numbers || []).map((n) =>
    [n.region, n.country, n.number, n.language || "", n.tollFree ? "yes" : "no"].join("; ")).join("\n");
  fs.append(legend, ta);
  const save = document.createElement("button");
  save.textContent = "Save settings";
  const reset = document.createElement("button");
  reset.type = "button";
  reset.textContent = "Undo every change (back to the settings file)";
  reset.addEventListener("click", () => run(async () => {
    renderSettings(await (await api("/settings", { method: "DELETE", headers: ifMatch() })).json());
    await loadTemplates();
    status("Back to the settings file.");
  }));
  form.append(fs, save, reset);
  $("autoadd").checked = body.settings.autoAddToNewMeetings;
  $("tracking").checked = body.tracking.enabled;
  $("repair").checked = body.tracking.repair;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const next = structuredClone(body);
    for (const [path, , type] of fields) {
      const input = form.elements.namedItem(path);
      set(next, path, type === "checkbox" ? input.checked : type === "number" ? Number(input.value) : input.value);
    }
    next.settings.dialIn.numbers = ta.value.split("\n").filter((l) => l.trim()).map((l) => {
      const [region, country, number, language, toll] = l.split(";").map((x) => x.trim());
      return { region, country, number, language, tollFree: /^(yes|true|1)$/i.test(toll || "") };
    });
    run(async () => {
      renderSettings(await (await api("/settings", { method: "PUT", headers: ifMatch(), json: next.settings })).json());
      status("Settings saved. Run a dry run to see which meetings need new join information.");
    });
  };
}

async function loadTemplates() {
  const body = await (await api("/templates")).json();
  templates = body.locales;
  const sel = $("locale");
  const keep = sel.value;
  sel.replaceChildren(...Object.keys(templates).sort().map((l) => new Option(l, l)));
  sel.value = keep in templates ? keep : "en";
  showTemplate();
}
function showTemplate() {
  const t = templates[$("locale").value] || { html: "", text: "" };
  $("tmpl-html").value = t.html;
  $("tmpl-text").value = t.text;
}
function editedTemplates() {
  const loc = $("new-locale").value.trim() || $("locale").value;
  return { ...templates, [loc]: { html: $("tmpl-html").value, text: $("tmpl-text").value } };
}

const pct = (a, b) => (b ? Math.round((100 * a) / b) : 0);
async function loadJobs() {
  const { jobs } = await (await api("/refresh")).json();
  const tbody = $("jobs");
  tbody.replaceChildren();
  for (const j of jobs) {
    const p = await (await api("/refresh/" + j.id)).json();
    const tr = document.createElement("tr");
    cell(tr, j.id);
    cell(tr, j.dryRun ? "dry run" : "apply");
    cell(tr, j.status + (j.error ? ": " + j.error : ""));
    const prog = document.createElement("progress");
    prog.max = 100;
    prog.value = p.listed ? pct(p.mailboxesDone, p.mailboxesTotal) : 0;
    cell(tr, `${p.mailboxesDone}/${p.mailboxesTotal} mailboxes`).prepend(prog, " ");
    cell(tr, Object.entries(p.counts).map(([k, v]) => `${k} ${v}`).join(", "));
    const actions = cell(tr, "");
    for (const [label, q] of [["Report", ""], ["Stale", "?stale=true"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label + " CSV";
      b.addEventListener("click", () => run(() => download(j.id, q)));
      actions.append(b);
    }
    if (j.dryRun && j.status === "done") {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "Apply";
      b.addEventListener("click", () => {
        if (!confirm("Write new join information into every meeting this dry run lists as would_update?")) return;
        const mailboxes = $("mailboxes").value.split("\n").map((x) => x.trim()).filter(Boolean);
        run(async () => {
          await api("/refresh", { method: "POST", json: { dryRun: false, after: j.id, mailboxes } });
          status("Apply job started.");
          await loadJobs();
        });
      });
      actions.append(b);
    }
    tbody.append(tr);
  }
  try {
    const s = await (await api("/stale")).json();
    $("stale").textContent = `Stale meetings in the last dry run: ${s.stale}` + (s.upToDate ? "." : " (settings changed or an apply ran since; run a new dry run).");
  } catch (e) {
    $("stale").textContent = e.message;
  }
}
async function download(id, q) {
  const blob = await (await api(`/refresh/${id}/report.csv${q}`)).blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `webscheduler-refresh-${id}${q ? "-stale" : ""}.csv`;
  a.click();
  URL.revokeObjectURL(a.href);
}

async function loadAudit() {
  const { entries } = await (await api("/audit?limit=50")).json();
  $("audit").replaceChildren(...entries.map((e) => {
    const tr = document.createElement("tr");
    cell(tr, new Date(e.time).toLocaleString());
    cell(tr, e.actor);
    cell(tr, e.action + (e.detail ? " (" + e.detail + ")" : ""));
    cell(tr, e.version || "");
    cell(tr, (e.changes || []).map((c) => `${c.field}: ${c.old ?? ""} → ${c.new ?? ""}`).join("\n"));
    return tr;
  }));
  const { flags } = await (await api("/changes?limit=50")).json();
  $("changes").replaceChildren(...flags.map((f) => {
    const tr = document.createElement("tr");
    cell(tr, new Date(f.time).toLocaleString());
    cell(tr, f.kind + (f.detail ? " (" + f.detail + ")" : ""));
    cell(tr, f.action);
    cell(tr, f.conferenceId);
    return tr;
  }));
}

async function run(fn) {
  try {
    await fn();
    await loadAudit();
  } catch (e) {
    status(e.message, true);
  }
}

async function start() {
  renderSettings(await (await api("/settings")).json());
  await loadTemplates();
  await loadJobs();
  await loadAudit();
  $("console").hidden = false;
  if ($("signin")) $("signin").hidden = true;
  status("");
  setInterval(() => loadJobs().catch((e) => status(e.message, true)), 3000);
}

$("locale")?.addEventListener("change", showTemplate);
$("preview")?.addEventListener("click", () => run(async () => {
  const b = await (await api("/templates/preview", { method: "POST", json: { locale: $("new-locale").value.trim() || $("locale").value, locales: editedTemplates() } })).json();
  $("preview-html").srcdoc = b.html;
  $("preview-text").textContent = b.text;
  $("preview-out").hidden = false;
}));
$("templates-form")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(async () => {
    await api("/templates", { method: "PUT", headers: ifMatch(), json: { locales: editedTemplates() } });
    renderSettings(await (await api("/settings")).json());
    await loadTemplates();
    status("Templates saved.");
  });
});
$("templates-reset")?.addEventListener("click", () => run(async () => {
  await api("/templates", { method: "DELETE", headers: ifMatch() });
  renderSettings(await (await api("/settings")).json());
  await loadTemplates();
  status("Built-in templates restored.");
}));
$("policy-form")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(async () => {
    renderSettings(await (await api("/settings/policy", { method: "PUT", headers: ifMatch(), json: { autoAddToNewMeetings: $("autoadd").checked } })).json());
    status("Policy saved.");
  });
});
$("tracking-form")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  run(async () => {
    renderSettings(await (await api("/settings/tracking", { method: "PUT", headers: ifMatch(), json: { enabled: $("tracking").checked, repair: $("repair").checked } })).json());
    status("Change tracking saved.");
  });
});
$("refresh-form")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const mailboxes = $("mailboxes").value.split("\n").map((x) => x.trim()).filter(Boolean);
  run(async () => {
    await api("/refresh", { method: "POST", json: { dryRun: true, mailboxes } });
    status("Dry run started.");
    await loadJobs();
  });
});
$("token-form")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("ws-admin-token", token);
  start().catch((e) => status(e.message, true));
});

if (root.dataset.mode === "session" || (root.dataset.mode === "token" && token)) {
  start().catch((e) => status(e.message, true));
}

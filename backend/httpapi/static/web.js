// The Web Scheduler page's few enhancements: copy buttons and people
// suggestions. The page works without them; what needs them starts hidden.

const live = document.getElementById("live");

/** @param {string} text */
function announce(text) {
  if (live) live.textContent = text;
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  if (!(button instanceof HTMLButtonElement) || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy || "");
    try {
      await navigator.clipboard.writeText((source?.textContent || "").trim());
      announce(button.dataset.done || "✓");
    } catch {
      announce(button.dataset.failed || "");
    }
  });
}

for (const el of document.querySelectorAll(".js-only")) {
  if (el instanceof HTMLElement) el.hidden = false;
}

/**
 * Adds an address to a textarea of one address per line, once.
 * @param {HTMLTextAreaElement} target
 * @param {string} address
 */
function addTo(target, address) {
  const lines = target.value.split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.some((l) => l.toLowerCase() === address.toLowerCase())) lines.push(address);
  target.value = lines.join("\n") + "\n";
}

for (const input of document.querySelectorAll("input[data-suggest]")) {
  if (!(input instanceof HTMLInputElement)) continue;
  const list = input.list;
  const target = document.getElementById(input.dataset.addTo || "");
  /** @type {AbortController | undefined} */
  let pending;
  let timer = 0;
  input.addEventListener("input", () => {
    const value = input.value.trim();
    // Choosing a suggestion puts its address in the field.
    if (target instanceof HTMLTextAreaElement && list && [...list.options].some((o) => o.value === value)) {
      addTo(target, value);
      announce((input.dataset.added || "%s").replace("%s", value));
      input.value = "";
      list.replaceChildren();
      return;
    }
    clearTimeout(timer);
    if (value.length < 2 || !list) return;
    timer = window.setTimeout(async () => {
      pending?.abort();
      pending = new AbortController();
      try {
        const res = await fetch(`/people?q=${encodeURIComponent(value)}`, { signal: pending.signal, headers: { Accept: "application/json" } });
        if (!res.ok) return;
        /** @type {{value: {name?: string, address: string}[]}} */
        const body = await res.json();
        list.replaceChildren(
          ...body.value.map((p) => {
            const option = document.createElement("option");
            option.value = p.address;
            option.label = p.name ? `${p.name} <${p.address}>` : p.address;
            return option;
          }),
        );
      } catch {
        // a newer search replaced this one, or the network is gone: no suggestions
      }
    }, 200);
  });
  // Enter adds a typed address instead of submitting the form.
  input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !(target instanceof HTMLTextAreaElement)) return;
    e.preventDefault();
    const value = input.value.trim();
    if (value.includes("@")) {
      addTo(target, value);
      announce((input.dataset.added || "%s").replace("%s", value));
      input.value = "";
    }
  });
}

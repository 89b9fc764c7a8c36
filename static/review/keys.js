// The review page by keyboard, and the heartbeat that keeps the lease.
// Keys act on the current row (a suggestion, or a code the coder added);
// typing in a field never triggers them.
(() => {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const help = document.getElementById("help");
  let current = 0;

  const items = () => Array.from(document.querySelectorAll("#work li.suggestion, #work li.added-code"));
  const focusItem = (index) => {
    const list = items();
    if (!list.length) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((item, i) => item.classList.toggle("is-current", i === current));
    list[current].focus();
    list[current].querySelector("a.code")?.click();  // show its evidence in the note
  };
  const currentItem = () => items()[current];
  const isOpen = (item) => item.classList.contains("state-open");
  const firstOpen = () => Math.max(0, items().findIndex(isOpen));
  const nextOpen = () => {
    const after = items().findIndex((item, i) => i > current && isOpen(item));
    return after >= 0 ? after : firstOpen();
  };

  // The selection as offsets into the note's text, counted in characters
  // (code points, as the server counts them), blank space at either end left
  // out. None when nothing of the note is selected: the server then says what to do.
  const noteSelection = () => {
    const note = document.getElementById("note-text");
    const selection = window.getSelection();
    if (!note || !selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    if (!note.contains(range.startContainer) || !note.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.setStart(note, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const chars = Array.from(range.toString());
    let lead = 0;
    let trail = chars.length;
    while (lead < trail && /\s/.test(chars[lead])) lead += 1;
    while (trail > lead && /\s/.test(chars[trail - 1])) trail -= 1;
    if (lead === trail) return null;
    const start = Array.from(before.toString()).length + lead;
    return { start, end: start + trail - lead, text: chars.slice(lead, trail).join("") };
  };
  const markEvidence = (item) => {
    const form = item?.querySelector("form.evidence-form");
    if (!form) return;
    const span = noteSelection();
    form.elements.start.value = span ? span.start : "";
    form.elements.end.value = span ? span.end : "";
    form.elements.text.value = span ? span.text : "";
    form.requestSubmit();
  };

  document.addEventListener("keydown", (event) => {
    const field = event.target.closest("input, select, textarea");
    if (event.key === "Escape") {
      if (help.open) help.close();
      if (field) { field.blur(); currentItem()?.focus(); }
      return;
    }
    if (field || event.ctrlKey || event.metaKey || event.altKey) return;
    // The help is modal: the page behind it must not act on the keys.
    if (help.open && event.key !== "?") return;
    // Shift + arrows extend the selection in the note, for evidence.
    if (event.shiftKey && event.key.startsWith("Arrow")) return;
    const item = currentItem();
    const act = {
      "j": () => focusItem(current + 1),
      "ArrowDown": () => focusItem(current + 1),
      "k": () => focusItem(current - 1),
      "ArrowUp": () => focusItem(current - 1),
      "a": () => item?.querySelector("button.accept")?.click(),
      "r": () => item?.querySelector("select.reason")?.focus(),
      "e": () => item?.querySelector("input.replacement")?.focus(),
      "c": () => document.getElementById("add-code")?.focus(),
      "v": () => markEvidence(item),
      "s": () => document.getElementById("submit-review")?.click(),
      "N": () => document.getElementById("next-note-form")?.submit(),
      "?": () => (help.open ? help.close() : help.showModal()),
    }[event.key];
    if (act) { event.preventDefault(); act(); }
  });

  // Choosing a reject reason with the keyboard submits on Enter.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("select.reason") && event.target.value) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  document.getElementById("help-button")?.addEventListener("click", () => help.showModal());

  // A row clicked with the mouse becomes the current one, as with j / k.
  document.addEventListener("click", (event) => {
    const row = event.target.closest("#work li.suggestion, #work li.added-code");
    const index = items().indexOf(row);
    if (index < 0) return;
    current = index;
    items().forEach((item, i) => item.classList.toggle("is-current", i === current));
  });

  // After htmx redraws the work area, stay on the same suggestion, or move
  // on to the next one still open when the current one was just decided.
  // On settle, not on swap: htmx wires up the new links only when it settles,
  // and an unwired link would reload the page.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id !== "work" && event.target.id !== "work") return;
    if (document.getElementById("work-error")) { focusItem(current); return; }
    // Marking or removing evidence keeps the row: the coder may mark more.
    const source = event.detail.requestConfig?.elt;
    if (source?.matches?.("form.evidence-form, form.evidence-remove")) { focusItem(current); return; }
    const list = items();
    const stay = list[current] && list[current].classList.contains("state-open");
    focusItem(stay ? current : nextOpen());
  });

  // Heartbeat: renew the lease and report the seconds the page was in use.
  const url = root.dataset.heartbeatUrl;
  const beat = 60;
  let lastActivity = Date.now();
  let lastBeat = Date.now();
  ["keydown", "mousemove", "click", "scroll"].forEach((name) =>
    document.addEventListener(name, () => { lastActivity = Date.now(); }, { passive: true }));
  const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const sendBeat = () => {
    const now = Date.now();
    const active = document.visibilityState === "visible" && now - lastActivity < 2 * beat * 1000;
    const seconds = active ? (now - lastBeat) / 1000 : 0;
    lastBeat = now;
    const body = new URLSearchParams({ active_seconds: seconds.toFixed(1) });
    fetch(url, { method: "POST", body, headers: { "X-CSRFToken": token }, credentials: "same-origin", keepalive: true })
      .then(async (response) => {
        const warning = document.getElementById("lease-warning");
        if (response.status === 409) { warning.textContent = await response.text(); warning.hidden = false; }
        else { warning.hidden = true; }
      })
      .catch(() => {});  // a lost connection: the next beat tries again
  };
  if (root.dataset.editable === "true") {
    setInterval(sendBeat, beat * 1000);
    window.addEventListener("pagehide", sendBeat);
  }

  // Deferred scripts run before htmx processes the page (on DOMContentLoaded):
  // clicking a suggestion's link any earlier follows its href and reloads.
  document.addEventListener("DOMContentLoaded", () => focusItem(firstOpen()));
})();

// The review page by keyboard, and the heartbeat that keeps the lease.
// Keys act on the current suggestion; typing in a field never triggers them.
(() => {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const help = document.getElementById("help");
  let current = 0;

  const items = () => Array.from(document.querySelectorAll("#work li.suggestion"));
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

  // After htmx redraws the work area, stay on the same suggestion, or move
  // on to the next one still open when the current one was just decided.
  // On settle, not on swap: htmx wires up the new links only when it settles,
  // and an unwired link would reload the page.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id !== "work" && event.target.id !== "work") return;
    if (document.getElementById("work-error")) { focusItem(current); return; }
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

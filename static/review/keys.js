// The review page by keyboard, and the heartbeat that keeps the lease.
// Keys act on the current row (a suggestion, or a code the coder added);
// typing in a field never triggers them.
(() => {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const help = document.getElementById("help");
  const noCodes = document.getElementById("no-codes");
  let current = 0;

  const items = () => Array.from(document.querySelectorAll("#work li.suggestion, #work li.added-code"));
  // The current row is marked for the eye (is-current) and for the styles
  // that show its details alone (aria-current).
  const markCurrent = (list) => list.forEach((item, i) => {
    item.classList.toggle("is-current", i === current);
    if (i === current) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  });
  const focusItem = (index) => {
    const list = items();
    if (!list.length) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    markCurrent(list);
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
    // So is the "no codable diagnosis" question: Enter answers, Esc goes back.
    if (noCodes?.open) return;
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
      "x": () => item?.querySelector("button.remove-code")?.click(),
      "Delete": () => item?.querySelector("button.remove-code")?.click(),
      "s": () => document.getElementById("submit-review")?.click(),
      "S": () => document.getElementById("submit-return")?.click(),
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

  // A review without a code is submitted only once the coder confirms the
  // note documents no codable diagnosis: the submit (by s, S or the mouse)
  // asks first. Caught before htmx sees it; the answer presses the same
  // button again, so htmx sends that button's choice (next note or desk).
  let asked = null;
  document.addEventListener("submit", (event) => {
    const confirm = event.target.querySelector?.("#no-codes-confirm");
    if (!confirm || confirm.checked || !noCodes) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    asked = event.submitter;
    noCodes.showModal();
  }, true);
  document.getElementById("no-codes-yes")?.addEventListener("click", () => {
    const confirm = document.getElementById("no-codes-confirm");
    noCodes.close();
    if (!confirm) return;
    confirm.checked = true;
    (asked && asked.isConnected ? asked : document.getElementById("submit-review"))?.click();
  });
  document.getElementById("no-codes-back")?.addEventListener("click", () => noCodes.close());
  noCodes?.addEventListener("close", () => {
    if (!document.getElementById("no-codes-confirm")?.checked) currentItem()?.focus();
  });

  // A row clicked with the mouse becomes the current one, as with j / k.
  document.addEventListener("click", (event) => {
    const row = event.target.closest("#work li.suggestion, #work li.added-code");
    const index = items().indexOf(row);
    if (index < 0) return;
    current = index;
    markCurrent(items());
  });

  // The evidence of the row in focus, brought into view inside the note,
  // which scrolls on its own (the page stays where it is). Left alone when
  // it is already in sight, so j / k within one passage do not jump.
  const showEvidence = () => {
    const note = document.getElementById("note-text");
    const mark = note?.querySelector("mark");
    if (!mark) return;
    const box = note.getBoundingClientRect();
    const spot = mark.getBoundingClientRect();
    if (spot.top >= box.top && spot.bottom <= box.bottom) return;
    // A third of the way down: the lines before it give the context.
    note.scrollTop += spot.top - box.top - Math.max(0, (note.clientHeight - spot.height) / 3);
  };
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target?.id === "note-text" || event.target.id === "note-text") showEvidence();
  });

  // Adding codes one after another: c, the code, Enter, c again at once.
  // Once a code is entered the field clears and the focus goes back to the
  // list, so the next c opens the field afresh instead of typing into it.
  // A code entered while the previous add is on its way waits its turn: it
  // goes with the redrawn form (the old one holds the page's old version and
  // would be refused), and what the coder is typing meanwhile is kept.
  let adding = null;  // the code on its way, while an add is in flight
  const waiting = [];  // codes entered meanwhile, in order
  let typed = null;  // the add field as the redraw found it
  const backToList = (field) => {
    field.value = "";
    const item = currentItem();
    if (item) item.focus(); else field.blur();
  };
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (!form.matches?.("form.add-form")) return;
    adding = form.elements.code.value;
    backToList(form.elements.code);
  });
  ["htmx:sendError", "htmx:responseError"].forEach((name) =>
    document.body.addEventListener(name, (event) => {
      const form = event.detail.elt;
      if (!form.matches?.("form.add-form") || adding === null) return;
      // Nothing was added: the codes go back into the field, not lost.
      form.elements.code.value = [adding, ...waiting.splice(0)].join(" ");
      adding = null;
    }));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target.id !== "add-code" || adding === null) return;
    event.preventDefault();
    if (event.target.value.trim()) waiting.push(event.target.value);
    backToList(event.target);
  });
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target?.id !== "work") return;
    const field = document.getElementById("add-code");
    typed = field ? { text: field.value, focused: document.activeElement === field } : null;
  });
  // After the work area is redrawn: sends the next waiting code, and keeps
  // the focus in the add field when the coder is typing there or must
  // correct a refused code (true then: the caller leaves the focus alone).
  const keepAdding = (source) => {
    const was = typed;
    const sent = adding;
    typed = null;
    adding = null;
    const field = document.getElementById("add-code");
    if (!field) return false;
    const error = document.getElementById("work-error");
    if (sent !== null && error && source?.matches?.("form.add-form")) {
      if (waiting.length) error.append(` Not added yet: ${waiting.splice(0).join(", ")}.`);
      markCurrent(items());
      field.value = sent;  // refused: back in the field to be corrected
      field.focus();
      field.select();
      return true;
    }
    if (waiting.length) {
      field.value = waiting.shift();
      field.form.requestSubmit();  // htmx reads it at once; the field clears
    }
    // The coder may have opened the new field (c) between the swap and this
    // settle: moving the focus to the list would take the rest of the code.
    const typingNow = document.activeElement === field;
    if (!was?.focused && !typingNow) return false;
    markCurrent(items());
    if (was?.focused) field.value = was.text;
    field.focus();
    return true;
  };

  // After htmx redraws the work area, stay on the same suggestion, or move
  // on to the next one still open when the current one was just decided.
  // On settle, not on swap: htmx wires up the new links only when it settles,
  // and an unwired link would reload the page.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id !== "work" && event.target.id !== "work") return;
    if (keepAdding(event.detail.requestConfig?.elt)) return;
    if (document.getElementById("work-error")) { focusItem(current); return; }
    // Marking or removing evidence keeps the row: the coder may mark more.
    const source = event.detail.requestConfig?.elt;
    if (source?.matches?.("form.evidence-form, form.evidence-remove")) { focusItem(current); return; }
    // Removing an added code keeps the place: x again removes the next one.
    if (source?.matches?.("form.remove-code-form")) { focusItem(current); return; }
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
  const takeSeconds = () => {
    const now = Date.now();
    const active = document.visibilityState === "visible" && now - lastActivity < 2 * beat * 1000;
    const seconds = active ? (now - lastBeat) / 1000 : 0;
    lastBeat = now;
    return seconds.toFixed(1);
  };
  const sendBeat = () => {
    const body = new URLSearchParams({ active_seconds: takeSeconds() });
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
    // The submission carries the seconds since the last beat: the beat sent
    // as the page goes would reach a review already submitted.
    document.body.addEventListener("htmx:configRequest", (event) => {
      if (event.detail.elt.closest && event.detail.elt.closest(".submit-form")) {
        event.detail.parameters.active_seconds = takeSeconds();
      }
    });
  }

  // Deferred scripts run before htmx processes the page (on DOMContentLoaded):
  // clicking a suggestion's link any earlier follows its href and reloads.
  // A page opened on a chosen row (?suggestion= / ?added=, as a link followed
  // before htmx wired it up) starts there, not at the first open suggestion.
  // Only then: after a decision the server marks the decided row, and the
  // coder goes on at the next open one.
  const serverChosen = () => {
    const query = new URLSearchParams(window.location.search);
    if (!query.has("added") && !query.has("suggestion")) return -1;
    return items().findIndex((item) => item.getAttribute("aria-current") === "true");
  };
  document.addEventListener("DOMContentLoaded", () => {
    const chosen = serverChosen();
    focusItem(chosen >= 0 ? chosen : firstOpen());
    showEvidence();
  });
})();

// The peer-evaluation form saves as the student goes: each changed answer (a score and its comment) is posted,
// a moment after the last change, to the form's save route with the page's form token (CSRF). When the tab is
// hidden or closed, what is still waiting goes out with navigator.sendBeacon, so closing the page loses nothing.
// Without this script the form's Save button posts everything to the same route.
"use strict";

(() => {
  const form = document.getElementById("peer-form");
  if (!form || form.dataset.readonly) return;
  const url = form.dataset.autosave;
  const status = document.getElementById("save-status");
  const token = form.elements.csrf_token.value;
  const waiting = new Set(); // answers changed and not yet sent: "<reviewee id>-<criterion id>"
  let timer = null;
  let sending = false;

  function show(text, error) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(error));
  }

  // Both fields of each answer go together: the server takes a left-out field as empty.
  function body(keys) {
    const data = new URLSearchParams({ csrf_token: token, autosave: "1" });
    for (const key of keys) {
      const picked = form.querySelector(`input[name="score-${key}"]:checked, input[name="score-${key}"]:not([type="radio"])`);
      data.set(`score-${key}`, picked ? picked.value : "");
      data.set(`comment-${key}`, form.elements[`comment-${key}`].value);
    }
    return data;
  }

  function changed(event) {
    const found = /^(?:score|comment)-(\d+-\d+)$/.exec(event.target.name || "");
    if (!found) return;
    waiting.add(found[1]);
    show(form.dataset.unsaved);
    clearTimeout(timer);
    // A tapped score goes almost at once; typing waits for a pause.
    timer = setTimeout(save, event.type === "change" ? 300 : 1200);
  }

  async function save() {
    clearTimeout(timer);
    if (sending || waiting.size === 0) return;
    const keys = [...waiting];
    waiting.clear();
    sending = true;
    show(form.dataset.saving);
    try {
      const response = await fetch(url, {
        method: "POST", body: body(keys), credentials: "same-origin", keepalive: true,
        headers: { Accept: "application/json" },
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) {
        show(answer.status);
        const state = document.getElementById("form-state");
        if (state && answer.state) {
          state.textContent = answer.state_label;
          state.className = "state " + answer.state;
        }
      } else {
        show(typeof answer.detail === "string" ? answer.detail : form.dataset.failed, true);
        // A collision with another save is worth another try; a closed evaluation or a refused answer is not.
        if (response.status === 409 || response.status >= 500) keys.forEach((k) => waiting.add(k));
      }
    } catch (error) {
      keys.forEach((k) => waiting.add(k));
      show(form.dataset.offline, true);
    } finally {
      sending = false;
      if (waiting.size) timer = setTimeout(save, 3000);
    }
  }

  function flush() {
    if (waiting.size === 0) return;
    clearTimeout(timer);
    if (navigator.sendBeacon(url, body([...waiting]))) waiting.clear();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });
  window.addEventListener("pagehide", flush);
  window.addEventListener("beforeunload", flush);
  // Save and Submit post the whole form: nothing waiting needs to go on its own.
  form.addEventListener("submit", () => { clearTimeout(timer); waiting.clear(); });
  window.addEventListener("online", save);
})();

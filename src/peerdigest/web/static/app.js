// peerdigest web app: the little every page needs. No framework, no build step.
// pd.send() makes a state-changing request with the page's form token (CSRF) and shows what happened in words.
// pd.t() writes a message in the page's language: the page carries its scripts' words, translated, as JSON
// blocks (<script type="application/json" class="pd-words">); a word the page lacks stays English.
"use strict";

const pd = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  let words;
  function t(text, values) {
    if (words === undefined) {
      words = Object.assign({}, ...[...document.querySelectorAll("script.pd-words")].map((node) => JSON.parse(node.textContent)));
    }
    let written = words[text] || text;
    for (const [name, value] of Object.entries(values || {})) written = written.replaceAll(`{${name}}`, value);
    return written;
  }

  function notice(text, kind) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text;
    box.className = "notice shown" + (kind ? " " + kind : "");
  }

  async function send(method, url, body) {
    let response;
    try {
      response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json", Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      notice(t("The server could not be reached. Check your connection and try again."), "error");
      throw error;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : t("The server answered {status}.", { status: response.status });
      notice(detail, "error");
      throw new Error(detail);
    }
    return data;
  }

  // Every form: ask first when it says so (data-confirm), disable its button while it is sent,
  // and say what is happening (data-busy).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    const button = form.querySelector('button[type="submit"], button:not([type])');
    if (button) button.disabled = true;
    if (form.dataset.busy) notice(form.dataset.busy, "busy");
  });

  return { send, notice, csrf, t };
})();

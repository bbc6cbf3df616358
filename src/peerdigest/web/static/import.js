// The import page: "Check the file" shows its problems or what it would change, without writing anything;
// "Import" is offered once the file checked out, and sends the same file again.
"use strict";

(() => {
  const form = document.getElementById("import-form");
  const result = document.getElementById("check-result");
  const importButton = document.getElementById("do-import");
  const checkButton = document.getElementById("check");
  importButton.disabled = true;

  // A changed file, title or option needs a new check.
  form.addEventListener("change", () => { importButton.disabled = true; });
  form.addEventListener("input", () => { importButton.disabled = true; });

  checkButton.addEventListener("click", async () => {
    if (!form.reportValidity()) return;
    checkButton.disabled = true;
    pd.notice(pd.t("Checking the file…"), "busy");
    try {
      const response = await fetch("/import/check", {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-CSRF-Token": pd.csrf() },
      });
      const html = await response.text();
      if (!response.ok) {
        // An error page (too large, not allowed, …): show its message.
        const page = new DOMParser().parseFromString(html, "text/html");
        const message = page.querySelector("main p")?.textContent || pd.t("The server answered {status}.", { status: response.status });
        pd.notice(message, "error");
        return;
      }
      result.innerHTML = html;
      const ok = result.querySelector("[data-ok]")?.dataset.ok === "true";
      importButton.disabled = !ok;
      pd.notice(pd.t(ok ? "The file checked out: nothing is written until you press Import." : "The file has problems; nothing was imported."), ok ? "" : "error");
    } catch {
      pd.notice(pd.t("The server could not be reached. Check your connection and try again."), "error");
    } finally {
      checkButton.disabled = false;
    }
  });
})();

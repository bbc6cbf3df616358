// The progress page: asks for every reviewer's state every few seconds and updates the rows and counts.
// Plain polling, not a stream: between two looks nothing is held open on the server.
"use strict";

(() => {
  const counts = document.getElementById("counts");
  if (!counts) return;
  const url = `/evaluations/${counts.dataset.evaluation}/progress.json`;
  const live = document.getElementById("live");
  const POLL_MS = 3000;

  async function look() {
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!answer.ok) throw new Error(String(answer.status));
      const now = await answer.json();
      for (const [state, count] of Object.entries(now.counts)) {
        const cell = counts.querySelector(`[data-count="${state}"]`);
        if (cell) cell.textContent = count;
      }
      for (const reviewer of now.reviewers) {
        const row = document.querySelector(`tr[data-reviewer="${reviewer.user_id}"]`);
        if (!row) continue;  // a reviewer added since the page was drawn: shown on the next reload
        const label = row.querySelector('[data-field="label"]');
        label.textContent = reviewer.label;
        label.className = `state ${reviewer.state}`;
        row.querySelector('[data-field="saved_at"]').textContent = reviewer.saved_at;
        row.querySelector('[data-field="submitted_at"]').textContent = reviewer.submitted_at;
      }
      live.classList.remove("error-text");
    } catch (problem) {
      live.classList.add("error-text");
    }
    setTimeout(look, POLL_MS);
  }
  setTimeout(look, POLL_MS);
})();

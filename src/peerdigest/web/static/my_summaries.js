// The student's page: "Generate my summary" queues it, then the job is followed until its summary is there.
// A student follows one job at a time, so polling its status is enough (the events stream is for teachers).
"use strict";

const POLL_MS = 1000;

function follow(card, jobId) {
  const line = card.querySelector(".progress-line");
  const state = line.querySelector(".state");
  const bar = line.querySelector("progress");
  line.hidden = false;
  const tick = async () => {
    let job;
    try {
      job = await fetch(`/api/v1/feedback-summaries/jobs/${jobId}/status`, { credentials: "same-origin" }).then((r) => r.json());
    } catch {
      setTimeout(tick, POLL_MS * 3);  // the server is away for a moment: keep trying, slower
      return;
    }
    state.textContent = pd.t(job.status);
    state.className = "state " + job.status;
    bar.value = job.progress || 0;
    if (job.status === "completed") {
      pd.notice(pd.t("Your summary is ready."));
      window.location.reload();
    } else if (job.status === "failed" || job.status === "cancelled") {
      pd.notice(job.error_message ? pd.t("No summary: {reason}", { reason: job.error_message })
        : pd.t("The summary was {status}.", { status: pd.t(job.status) }), "error");
    } else {
      setTimeout(tick, POLL_MS);
    }
  };
  tick();
}

document.querySelectorAll(".own-summary").forEach((card) => {
  if (card.dataset.job) follow(card, card.dataset.job);
  const button = card.querySelector("[data-generate]");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    pd.notice(pd.t("Asking for your summary…"), "busy");
    try {
      const job = await pd.send("POST", `/api/v1/feedback-summaries/evaluation/${card.dataset.evaluation}/student/${card.dataset.student}/queue`);
      button.hidden = true;
      pd.notice(pd.t("Your summary is being written; this takes a moment."));
      follow(card, job.job_id);
    } catch {
      button.disabled = false;
    }
  });
});

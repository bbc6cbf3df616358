// The evaluation page: buttons that queue and cancel summaries, and every student's state kept live.
// Live: the evaluation's events stream (Server-Sent Events); when the browser or a proxy cannot keep
// a stream open, the page asks for the states every few seconds instead.
"use strict";

(() => {
  const table = document.getElementById("students");
  if (!table) return;
  const evaluationId = table.dataset.evaluation;
  const api = `/api/v1/feedback-summaries/evaluation/${evaluationId}`;
  const live = document.getElementById("live");
  const POLL_MS = 3000;
  const REOPEN_LIMIT = 3;  // stream errors in a row before falling back to polling

  const rows = () => [...table.querySelectorAll("tbody tr[data-student]")];
  const rowOf = (studentId) => table.querySelector(`tr[data-student="${studentId}"]`);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A time as the server writes it (i18n.format_datetime): `5 dec. 2026 17:48`, `5 Dec 2026, 17:48`, on the
  // school's clock; the page gives the time zone and its language's month names.
  const timeFormat = JSON.parse(document.getElementById("time-format").textContent);
  const clock = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "numeric", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: timeFormat.timeZone,
  });
  function formatTime(iso) {
    if (!iso) return "–";
    const part = Object.fromEntries(clock.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
    const month = timeFormat.months[Number(part.month) - 1];
    return `${part.day} ${month} ${part.year}${timeFormat.comma ? "," : ""} ${part.hour}:${part.minute}`;
  }

  // The same markup as the state_cell macro in templates/_states.html.
  function stateCell(cell, s) {
    cell.replaceChildren(element("span", `state ${s.state}`, pd.t(s.state)));
    if (s.job_open) {
      const bar = element("progress");
      bar.max = 100;
      bar.value = s.progress;
      bar.setAttribute("aria-label", pd.t("progress"));
      cell.append(bar);
    }
    if (s.error) cell.append(element("span", "reason", s.error));
  }

  function actionsCell(cell, s) {
    const button = element("button", "", pd.t(s.job_open ? "Cancel" : s.state === "none" ? "Generate" : "Regenerate"));
    button.type = "button";
    button.dataset[s.job_open ? "cancel" : "regenerate"] = "";
    cell.replaceChildren(button);
  }

  function update(s) {
    const tr = rowOf(s.student_id);
    if (!tr) return;
    const changed = tr.dataset.state !== s.state;
    tr.dataset.state = s.state;
    tr.dataset.job = s.job_id || "";
    tr.dataset.open = String(s.job_open);
    stateCell(tr.querySelector('[data-field="state"]'), s);
    tr.querySelector('[data-field="method"]').textContent = s.method ? pd.t(s.method) : "–";
    tr.querySelector('[data-field="updated"]').textContent = formatTime(s.updated_at);
    actionsCell(tr.querySelector('[data-field="actions"]'), s);
    if (changed) {
      tr.classList.remove("changed");
      void tr.offsetWidth;  // restart the highlight
      tr.classList.add("changed");
    }
    tally();
  }

  function tally() {
    const counts = {};
    rows().forEach((tr) => { counts[tr.dataset.state] = (counts[tr.dataset.state] || 0) + 1; });
    const order = ["completed", "processing", "queued", "failed", "cancelled", "stale", "none"];
    document.getElementById("tally").textContent =
      order.filter((s) => counts[s]).map((s) => `${counts[s]} ${pd.t(s)}`).join(", ") || pd.t("no students");
  }

  // --- live updates -------------------------------------------------------------------------------
  function poll() {
    live.textContent = pd.t("updating every few seconds");
    const tick = async () => {
      try {
        const states = await fetch(`${api}/states`, { credentials: "same-origin" }).then((r) => {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        });
        states.forEach(update);
        live.textContent = pd.t("updating every few seconds");
      } catch {
        live.textContent = pd.t("cannot reach the server; retrying");
      }
      setTimeout(tick, POLL_MS);
    };
    tick();
  }

  function stream() {
    if (!("EventSource" in window)) return poll();
    const source = new EventSource(`${api}/events`);
    let failures = 0;
    source.onopen = () => { failures = 0; live.textContent = pd.t("live"); };
    source.addEventListener("student", (event) => update(JSON.parse(event.data)));
    source.onerror = () => {
      failures += 1;
      live.textContent = pd.t("reconnecting…");
      if (source.readyState === EventSource.CLOSED || failures >= REOPEN_LIMIT) {
        source.close();
        poll();
      }
    };
  }

  // --- actions ------------------------------------------------------------------------------------
  const WANTS_SUMMARY = new Set(["none", "failed", "cancelled", "stale"]);

  async function queueMany(studentIds) {
    const body = studentIds === undefined ? {} : { student_ids: studentIds };
    const done = await pd.send("POST", `${api}/batch-queue`, body);
    const parts = [pd.t("{count} queued", { count: done.queued })];
    if (done.already_queued) parts.push(pd.t("{count} were already queued", { count: done.already_queued }));
    if (done.failed) parts.push(pd.t("{count} could not be queued", { count: done.failed }));
    pd.notice(pd.t("Summaries asked for: {parts}.", { parts: parts.join(", ") }));
  }

  const actions = {
    all: () => queueMany(),
    missing: () => {
      const wanted = rows().filter((tr) => WANTS_SUMMARY.has(tr.dataset.state)).map((tr) => Number(tr.dataset.student));
      if (!wanted.length) {
        pd.notice(pd.t("Every student has a summary of their current feedback, or one on its way."));
        return Promise.resolve();
      }
      return queueMany(wanted);
    },
    "cancel-all": async () => {
      const done = await pd.send("POST", `${api}/cancel-all`);
      pd.notice(done.cancelled ? pd.t("Cancelled {count} open jobs.", { count: done.cancelled }) : pd.t("There was nothing to cancel."));
    },
  };

  document.querySelector(".actions").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    button.disabled = true;
    pd.notice(pd.t("Working…"), "busy");
    try { await actions[button.dataset.action](); } catch { /* pd.send showed why */ }
    button.disabled = false;
  });

  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const tr = button.closest("tr");
    const name = tr.querySelector("td a").textContent;
    button.disabled = true;
    try {
      if ("cancel" in button.dataset) {
        await pd.send("POST", `/api/v1/feedback-summaries/jobs/${tr.dataset.job}/cancel`);
        pd.notice(pd.t("Cancelled the summary of {name}.", { name }));
      } else if ("regenerate" in button.dataset) {
        await pd.send("POST", `${api}/student/${tr.dataset.student}/regenerate`, {});
        pd.notice(pd.t("A summary of {name} is queued.", { name }));
      }
    } catch {
      button.disabled = false;
    }
  });

  tally();
  stream();
})();

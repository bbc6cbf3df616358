// The evaluation page's "Show" filter: hide the students without the chosen label (docs/INSIGHTS.md).
"use strict";
(function () {
  const select = document.getElementById("label-filter");
  if (!select) return;
  select.addEventListener("change", function () {
    const wanted = select.value;
    document.querySelectorAll("#students tbody tr[data-student]").forEach(function (row) {
      const labels = (row.dataset.labels || "").split(" ").filter(Boolean);
      const shown = !wanted || (wanted === "any" ? labels.length > 0 : labels.includes(wanted));
      row.hidden = !shown;
    });
  });
})();

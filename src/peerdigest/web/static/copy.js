// Copy buttons: `data-copy` copies its own value, `data-copy-from` the text of the element with that id.
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy], [data-copy-from]");
  if (!button) return;
  const text = button.dataset.copy ?? document.getElementById(button.dataset.copyFrom).textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.classList.add("copied");
  } catch (problem) {
    window.prompt("", text);  // no clipboard access (plain http): the browser's own box to copy from
  }
});

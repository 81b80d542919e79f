// The meeting pages (ES module). The pages work without it; it only moves focus to the error
// summary after a refused form, so a keyboard or screen-reader user starts at the problems
// (GOV.UK's error summary pattern), and keeps the cell key field for "a cell" links only.

const summary = document.querySelector("[data-error-summary]");
if (summary) {
  summary.focus();
  summary.scrollIntoView({ block: "start" });
}

const link = document.getElementById("f-action-link");
const cell = document.getElementById("f-action-cell");
if (link && cell) {
  const sync = () => {
    const wanted = link.value === "cell";
    cell.closest("div")?.classList.toggle("m-cell-wanted", wanted);
    cell.disabled = !wanted;
  };
  link.addEventListener("change", sync);
  sync();
}

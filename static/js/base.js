/* Driftwatch, every page: local times, auto-submitting pickers, and drawing the page's figures.
   Figures come from <script type="application/json" id="fig-…"> (Django's json_script) and are drawn
   into the element whose data-figure names them; no inline scripts anywhere. */
(function () {
  "use strict";

  function localiseTimes(root) {
    var full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    var day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      el.title = el.textContent;
      el.textContent = (el.dataset.style === "date" ? day : full).format(when);
    });
  }

  function figureOf(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function drawAll(root, onDrawn) {
    if (typeof Plotly === "undefined") { return; }
    (root || document).querySelectorAll("[data-figure]").forEach(function (box) {
      var fig = figureOf(box.dataset.figure);
      if (!fig) { return; }
      Plotly.newPlot(box, fig.data, fig.layout, fig.config || { responsive: true, displaylogo: false })
        .then(function () { if (onDrawn) { onDrawn(box, fig); } });
    });
  }

  function autosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.name === "version" && select.form.elements.run) {
          select.form.elements.run.disabled = true; // a new version starts at its latest window
        }
        select.form.submit();
      });
    });
  }

  window.Driftwatch = { drawAll: drawAll, figureOf: figureOf };
  localiseTimes(document);
  autosubmit(document);
})();

/* Weekly report: draw the charts at a fixed width that fits A4 (so screen and paper look alike), and
   the print button. */
(function () {
  "use strict";
  var A4_WIDTH = 680; // px: 180 mm, A4 inside 15 mm margins, at 96 px per inch
  var HEIGHT = 300;
  if (typeof Plotly !== "undefined") {
    document.querySelectorAll("[data-figure]").forEach(function (box) {
      var fig = window.Driftwatch.figureOf(box.dataset.figure);
      if (!fig) { return; }
      var width = Math.min(A4_WIDTH, box.clientWidth || A4_WIDTH);
      var lay = Object.assign({}, fig.layout, { width: width, height: Math.min(fig.layout.height || HEIGHT, 480) });
      var config = Object.assign({}, fig.config, { responsive: false, displayModeBar: false });
      Plotly.newPlot(box, fig.data, lay, config);
    });
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();

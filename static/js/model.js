/* Model page: draw every chart; a click on a heatmap cell opens that feature's page for that window. */
(function () {
  "use strict";
  window.Driftwatch.drawAll(document, function (box, fig) {
    var holder = box.closest("[data-feature-url]");
    var trace = fig.data[0];
    if (!holder || !trace || trace.type !== "heatmap") { return; }
    box.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point) { return; }
      var url = holder.dataset.featureUrl.replace("__name__", encodeURIComponent(point.y));
      if (point.customdata !== undefined && point.customdata !== null) { url += "&run=" + point.customdata; }
      window.location.assign(url);
    });
  });
})();

/* Model page, frontline users and up: a click on a point of a time chart fills the flag form's time
   range with that point's window (its start plus the window's length). Runs after every script of the
   page has started its charts: Plotly gives a chart its `on` method as soon as drawing begins. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-flag-form][data-window-seconds]");
  if (!form) { return; }
  var seconds = parseInt(form.dataset.windowSeconds, 10) || 86400;
  var hint = form.querySelector("[data-flag-hint]");

  // Plotly hands date-axis values back as "2026-11-19", "2026-11-19 06:00" or ISO text, in UTC.
  function utc(x) {
    var m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(String(x));
    return m ? new Date(m[1] + "T" + (m[2] || "00") + ":" + (m[3] || "00") + ":00Z") : null;
  }

  function inputValue(when) { return when.toISOString().slice(0, 16); } // datetime-local, in UTC

  function isTimeChart(box) {
    var fig = window.Driftwatch.figureOf(box.dataset.figure);
    var first = fig && fig.data && fig.data[0];
    return !!first && first.type !== "heatmap" && Array.isArray(first.x) && first.x.length > 0 &&
      utc(first.x[0]) !== null;
  }

  function fill(event) {
    var point = event.points && event.points[0];
    if (!point || (point.data && point.data.name === "Flags")) { return; }
    var start = utc(point.x);
    if (!start) { return; }
    var end = new Date(start.getTime() + seconds * 1000);
    form.elements.start.value = inputValue(start);
    form.elements.end.value = inputValue(end);
    var range = form.querySelector("input[name=target][value=time_range]");
    if (range) { range.checked = true; }
    if (hint) {
      hint.textContent = "Filled in from the chart: " + inputValue(start).replace("T", " ") + " to " +
        inputValue(end).replace("T", " ") + " UTC. Add a category and a note, then send it.";
    }
  }

  function listen() {
    document.querySelectorAll("[data-figure]").forEach(function (box) {
      if (typeof box.on === "function" && isTimeChart(box)) { box.on("plotly_click", fill); }
    });
  }

  if (document.readyState === "complete") { listen(); } else { window.addEventListener("load", listen); }
})();

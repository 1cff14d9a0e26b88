/* Feature page: distribution, change over time and data-quality charts. */
(function () {
  "use strict";
  window.Driftwatch.drawAll(document);
})();

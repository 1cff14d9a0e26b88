/* Portfolio: draw each model's trend sparkline. */
(function () {
  "use strict";
  window.Driftwatch.drawAll(document);
})();

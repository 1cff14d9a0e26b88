/* Experiment page: the lift with its confidence sequence, each arm's metric, the traffic split. */
(function () {
  "use strict";
  window.Driftwatch.drawAll(document);
})();

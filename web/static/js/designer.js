/*
 * designer.js — draws a procedure version's diagram with its lint report (errors as overlays on
 * their element ids, the critical path marked), from the data attributes the version page writes:
 *   <div id="diagram" data-bpmn-url="/designer/versions/ID/diagram.bpmn" data-diagram='{"markers": {...},
 *        "overlays": [...]}' data-error-message="...">
 * The drawing itself is web/static/js/diagram.js (QuytrinhDiagram.render).
 */
(function () {
  "use strict";

  function draw() {
    var container = document.getElementById("diagram");
    if (!container || !window.QuytrinhDiagram) {
      return;
    }
    var spec = {};
    try {
      spec = JSON.parse(container.getAttribute("data-diagram") || "{}");
    } catch (ignored) {
      spec = {};
    }
    window.QuytrinhDiagram.render(container, container.getAttribute("data-bpmn-url"), {
      markers: spec.markers || {},
      overlays: spec.overlays || [],
      fit: true,
      navigated: true
    }).catch(function (error) {
      // The container already shows the message; keep the cause for whoever opens the console.
      if (window.console) {
        window.console.warn("diagram:", error);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

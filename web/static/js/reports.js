/*
 * reports.js — the step heatmap (bản đồ nhiệt thời gian xử lý) on the procedure's diagram.
 * Reads the per-step figures the page embeds (#heat-data: [{spec_id, median, p90, allocation,
 * count, ...}]) and draws them with window.QuytrinhDiagram (diagram.js): a colored marker per
 * task (reports.css: qt-heat-ok / -warn / -bad / -none) and an overlay "median · p90 / allocation".
 * The level rule is the server's (services/reports_time.heat_level); it is repeated here only to
 * pick a color, from the same three numbers.
 */
(function () {
  "use strict";

  function level(step) {
    if (!step.allocation) { return "none"; }
    if (step.p90 <= step.allocation) { return "ok"; }
    return step.median <= step.allocation ? "warn" : "bad";
  }

  function label(template, step) {
    return template
      .replace("{median}", step.median)
      .replace("{p90}", step.p90)
      .replace("{alloc}", step.allocation);
  }

  function draw() {
    var container = document.getElementById("heat-diagram");
    var data = document.getElementById("heat-data");
    if (!container || !data || !window.QuytrinhDiagram) { return; }
    var steps = JSON.parse(data.textContent || "[]");
    var markers = {};
    var overlays = [];
    steps.forEach(function (step) {
      var lvl = level(step);
      markers[step.spec_id] = "qt-heat-" + lvl;
      overlays.push({
        element: step.spec_id,
        html: label(container.dataset.label, step),
        position: { bottom: 14, left: 0 },
        className: "qt-overlay qt-heat-overlay qt-heat-overlay-" + lvl
      });
    });
    window.QuytrinhDiagram.render(container, container.dataset.xmlUrl, {
      markers: markers, overlays: overlays, fit: true
    }).catch(function () { /* diagram.js already wrote the message into the container */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

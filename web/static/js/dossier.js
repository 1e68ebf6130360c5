/*
 * dossier.js — the dossier page's diagram (sơ đồ hồ sơ): where the dossier stands, drawn with
 * window.QuytrinhDiagram (diagram.js) from what the page writes:
 *   <div id="dossier-diagram" data-xml="/dossiers/CODE/bpmn" data-error-message="...">
 *   <script type="application/json" id="dossier-markers">{"Task_X": "qt-done", ...}</script>
 * A static file rather than an inline script: the CSP allows scripts from our origin only.
 */
(function () {
  "use strict";

  function draw() {
    var box = document.getElementById("dossier-diagram");
    var data = document.getElementById("dossier-markers");
    if (!box || !window.QuytrinhDiagram) { return; }
    var markers = {};
    try {
      markers = JSON.parse((data && data.textContent) || "{}");
    } catch (ignored) {
      markers = {};
    }
    window.QuytrinhDiagram.render(box, box.dataset.xml, { markers: markers, fit: true })
      .then(function () { box.dataset.rendered = "1"; })
      .catch(function () { box.dataset.rendered = "error"; });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

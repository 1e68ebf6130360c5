/*
 * print.js — the Print button of the printable forms (phiếu in): <button data-print>.
 * A listener from a static file rather than onclick="…": the CSP allows no inline handlers.
 */
(function () {
  "use strict";

  function wire() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();

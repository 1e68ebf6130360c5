/*
 * diagram.js — draws a BPMN diagram (sơ đồ quy trình) with the vendored bpmn-js.
 *
 * API
 * ---
 *   window.QuytrinhDiagram.render(container, xmlUrl, options) -> Promise<viewer>
 *
 *   container  an element (or a CSS selector) that receives the drawing; give it a height
 *              in CSS (diagram.css: `.qt-diagram` is 480px high).
 *   xmlUrl     a URL of our own server returning the BPMN XML (same origin, cookies sent),
 *              e.g. /designer/versions/12/diagram.bpmn (served by web/serving.py
 *              as an attachment with a sandboxing CSP: fetch() reads it, no browser renders it).
 *   options    {
 *     markers:  {elementId: cssClass, ...}   canvas.addMarker for each; an element id may map
 *                                             to one class or an array of classes. Classes in
 *                                             diagram.css: qt-error (red), qt-critical (critical
 *                                             path, bold blue), qt-done (completed, green),
 *                                             qt-current (current, orange), qt-not-reached (grey).
 *     overlays: [{element, html, position, className}]
 *                                             overlays.add(element, {position, html}); `html` is a
 *                                             string (inserted as text, never as markup) or a DOM
 *                                             node; `position` defaults to {top: -12, left: 0};
 *                                             className (default "qt-overlay") styles the box.
 *     fit:       true (default)               zoom to fit the viewport after import.
 *     navigated: true (default)               pan/zoom with the mouse (navigated viewer);
 *                                             false = the static viewer.
 *     errorMessage: string                   shown when the XML cannot be fetched or drawn;
 *                                             defaults to container[data-error-message] or a
 *                                             Vietnamese/English text by <html lang>.
 *   }
 *
 *   The promise resolves with the bpmn-js viewer (viewer.get('canvas'), viewer.get('overlays'),
 *   viewer.get('elementRegistry') ...). On failure it rejects with the Error, after writing the
 *   message into the container (role="alert", class qt-diagram-error). Markers or overlays
 *   naming an element that is not in the diagram are skipped (a lint error can name an element
 *   that does not exist), and listed in viewer.qtMissing.
 *
 * The bpmn-js build and its CSS are loaded on first use from the vendored copies next to this
 * file (../vendor/bpmn-js/), so a page only needs <script src=".../js/diagram.js" defer>.
 * The viewer and navigated-viewer builds both define window.BpmnJS; each constructor is kept
 * aside after loading so both can be used on one page.
 *
 * The bpmn.io watermark that bpmn-js draws must stay visible (licence): nothing here hides it.
 */
(function () {
  "use strict";

  var here = (document.currentScript && document.currentScript.src) || "";
  var staticBase = here ? here.replace(/js\/diagram\.js(\?.*)?$/, "") : "/static/";
  var vendorBase = staticBase + "vendor/bpmn-js/";

  var BUILDS = {
    viewer: "bpmn-viewer.production.min.js",
    navigated: "bpmn-navigated-viewer.production.min.js"
  };
  var STYLES = [
    vendorBase + "assets/diagram-js.css",
    vendorBase + "assets/bpmn-js.css",
    vendorBase + "assets/bpmn-font/css/bpmn.css",
    staticBase + "css/diagram.css"
  ];
  var loading = {};

  function ensureStyles() {
    STYLES.forEach(function (href) {
      var present = Array.prototype.some.call(
        document.querySelectorAll('link[rel="stylesheet"]'),
        function (link) { return link.href === new URL(href, document.baseURI).href; });
      if (!present) {
        var link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = href;
        document.head.appendChild(link);
      }
    });
  }

  // Loads one bpmn-js build and returns its constructor. Loads are serialized per build;
  // window.BpmnJS is restored afterwards so a page's own copy (if any) is left alone.
  function loadBuild(kind) {
    if (loading[kind]) {
      return loading[kind];
    }
    loading[kind] = new Promise(function (resolve, reject) {
      var previous = window.BpmnJS;
      var script = document.createElement("script");
      script.src = vendorBase + BUILDS[kind];
      script.onload = function () {
        var ctor = window.BpmnJS;
        window.BpmnJS = previous;
        if (typeof ctor !== "function") {
          reject(new Error("bpmn-js did not load from " + script.src));
        } else {
          resolve(ctor);
        }
      };
      script.onerror = function () {
        window.BpmnJS = previous;
        reject(new Error("cannot load " + script.src));
      };
      document.head.appendChild(script);
    });
    loading[kind].catch(function () { delete loading[kind]; });
    return loading[kind];
  }

  function defaultErrorMessage(container) {
    if (container.dataset && container.dataset.errorMessage) {
      return container.dataset.errorMessage;
    }
    var lang = (document.documentElement.lang || "vi").toLowerCase();
    return lang.indexOf("en") === 0
      ? "The diagram cannot be drawn: the BPMN file is not readable as a diagram."
      : "Không thể vẽ sơ đồ: tệp BPMN không đọc được dưới dạng sơ đồ.";
  }

  function showError(container, message) {
    container.innerHTML = "";
    var box = document.createElement("div");
    box.className = "qt-diagram-error";
    box.setAttribute("role", "alert");
    box.textContent = message;
    container.appendChild(box);
  }

  function overlayNode(spec) {
    if (spec.html && typeof spec.html === "object" && spec.html.nodeType) {
      return spec.html;
    }
    var node = document.createElement("div");
    node.className = spec.className || "qt-overlay";
    // Text, not markup: overlay texts carry lint messages built from uploaded files.
    node.textContent = spec.html == null ? "" : String(spec.html);
    return node;
  }

  function decorate(viewer, options) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    var missing = [];
    var markers = options.markers || {};
    Object.keys(markers).forEach(function (id) {
      if (!registry.get(id)) {
        missing.push(id);
        return;
      }
      [].concat(markers[id]).forEach(function (cls) {
        if (cls) {
          canvas.addMarker(id, cls);
        }
      });
    });
    (options.overlays || []).forEach(function (spec) {
      if (!spec || !spec.element || !registry.get(spec.element)) {
        if (spec && spec.element) {
          missing.push(spec.element);
        }
        return;
      }
      overlays.add(spec.element, "qt-overlay", {
        position: spec.position || { top: -12, left: 0 },
        html: overlayNode(spec)
      });
    });
    viewer.qtMissing = missing;
  }

  function render(container, xmlUrl, options) {
    options = options || {};
    if (typeof container === "string") {
      container = document.querySelector(container);
    }
    if (!container) {
      return Promise.reject(new Error("QuytrinhDiagram.render: no container"));
    }
    var message = options.errorMessage || defaultErrorMessage(container);
    var kind = options.navigated === false ? "viewer" : "navigated";
    ensureStyles();
    container.classList.add("qt-diagram-canvas");
    container.setAttribute("aria-busy", "true");

    var xmlPromise = fetch(xmlUrl, { credentials: "same-origin", headers: { Accept: "application/xml" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("GET " + xmlUrl + " -> " + response.status);
        }
        return response.text();
      });

    var viewer;
    return Promise.all([loadBuild(kind), xmlPromise])
      .then(function (results) {
        var Ctor = results[0];
        container.innerHTML = "";
        viewer = new Ctor({ container: container });
        return viewer.importXML(results[1]);
      })
      .then(function () {
        decorate(viewer, options);
        if (options.fit !== false) {
          viewer.get("canvas").zoom("fit-viewport", "auto");
        }
        container.setAttribute("aria-busy", "false");
        container.dataset.qtRendered = "true";
        return viewer;
      })
      .catch(function (error) {
        if (viewer) {
          try { viewer.destroy(); } catch (ignored) { /* already broken */ }
        }
        container.setAttribute("aria-busy", "false");
        container.dataset.qtRendered = "error";
        showError(container, message);
        throw error;
      });
  }

  window.QuytrinhDiagram = { render: render };
})();

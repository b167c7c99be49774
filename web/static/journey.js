// Peykar admin: the journey map's live numbers (web/journey*.go). The map
// is drawn on the server; each number carries data-path, where the
// campaign's report stream (GET /api/v1/campaigns/{id}/stream, event
// "report", sent when the report changes) holds its value: keys, and
// {"name": n} for the rule named n. Numbers are set in place, text only, so
// the map is never replaced and keyboard focus on a node stays where it is.
// While the stream is down, the map's partial (data-fallback) is fetched
// every 30 seconds and its numbers copied, until the stream is back.
(function () {
  "use strict";

  var box = document.getElementById("journey");
  if (!box || !box.dataset.stream) return;
  var section = document.getElementById("journey-section") || box;
  var lost = document.getElementById("journey-stream-lost");
  var FALLBACK_MS = 30000;
  // Numbers are written as the server writes them in the page's language:
  // Persian digits and separators in the Persian page (web/locale.go).
  var numbers = new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US");
  var es = null, timer = null, applied = 0;

  // lookup follows path into the report; null when something is missing.
  function lookup(obj, path) {
    for (var i = 0; i < path.length && obj !== null && obj !== undefined; i++) {
      var k = path[i];
      if (k !== null && typeof k === "object") {
        var found = null;
        if (Array.isArray(obj)) {
          for (var j = 0; j < obj.length; j++) {
            if (obj[j] && obj[j].name === k.name) { found = obj[j]; break; }
          }
        }
        obj = found;
      } else {
        obj = obj[k];
      }
    }
    return obj === undefined ? null : obj;
  }

  function set(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function counted() {
    applied++;
    box.setAttribute("data-updates", String(applied));
  }

  // applyReport sets every number of the section from a report event. A
  // count the report leaves out (no follow-up waiting yet) is 0.
  function applyReport(report) {
    section.querySelectorAll("[data-path]").forEach(function (el) {
      var path;
      try { path = JSON.parse(el.getAttribute("data-path")); } catch (e) { return; }
      var v = lookup(report, path);
      set(el, numbers.format(typeof v === "number" ? v : 0));
    });
    counted();
  }

  // applyMap copies the numbers of a freshly drawn map, matched by path.
  function applyMap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var byPath = {};
    doc.querySelectorAll("[data-path]").forEach(function (el) {
      byPath[el.getAttribute("data-path")] = el.textContent;
    });
    section.querySelectorAll("[data-path]").forEach(function (el) {
      var v = byPath[el.getAttribute("data-path")];
      if (v !== undefined) set(el, v);
    });
    counted();
  }

  function fetchMap() {
    fetch(box.dataset.fallback, { credentials: "same-origin" }).then(function (resp) {
      return resp.ok ? resp.text() : null;
    }).then(function (html) {
      if (html) applyMap(html);
    }).catch(function () { /* still down: the next tick tries again */ });
  }

  function startFallback() {
    if (lost) lost.hidden = false;
    if (timer !== null) return;
    timer = setInterval(function () {
      fetchMap();
      if (es === null) connect(); // the browser gave the stream up: open it again
    }, FALLBACK_MS);
  }

  function stopFallback() {
    if (lost) lost.hidden = true;
    if (timer !== null) { clearInterval(timer); timer = null; }
  }

  function connect() {
    if (!window.EventSource) { startFallback(); return; }
    es = new EventSource(box.dataset.stream);
    // The stream counts as back when it delivers (every connection starts
    // with the current report), not when it opens: a server that opens
    // and closes it at once must not keep resetting the fallback's tick.
    es.addEventListener("report", function (ev) {
      var report;
      try { report = JSON.parse(ev.data); } catch (e) { return; /* a malformed event changes nothing */ }
      stopFallback();
      applyReport(report);
    });
    es.addEventListener("error", function () {
      // CONNECTING: the browser retries on its own (the stream asks for
      // 2 s); CLOSED: it gave up, and the fallback's tick reconnects.
      if (es && es.readyState === EventSource.CLOSED) es = null;
      startFallback();
    });
  }

  // A page left behind closes its stream, so the server is not kept
  // writing to it.
  window.addEventListener("pagehide", function () {
    if (es) { es.close(); es = null; }
    if (timer !== null) { clearInterval(timer); timer = null; }
  });

  connect();
})();

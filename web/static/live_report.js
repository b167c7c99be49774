// The live report: the campaign's event stream says when the report
// changed, and the page then re-reads its body from the server, which
// formats every number and date in the user's language and time zone (so
// this script formats nothing). One read at a time; a change that arrives
// during a read causes one more read after it.
(function () {
  "use strict";
  var body = document.getElementById("live-body");
  var live = document.getElementById("live");
  if (!body || !window.EventSource) {
    return;
  }
  var busy = false, again = false;
  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(body.dataset.body, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) { body.innerHTML = html; })
      .catch(function () { /* the next event tries again */ })
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }
  var es = new EventSource(body.dataset.stream);
  es.addEventListener("report", function () {
    live.textContent = live.dataset.textLive;
    live.className = "live on";
    refresh();
  });
  es.onerror = function () {
    live.textContent = live.dataset.textLost;
    live.className = "live";
  };
})();

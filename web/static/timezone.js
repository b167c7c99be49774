// The account page's time zone list: the browser knows every IANA zone
// (Intl.supportedValuesOf) and its own; a user who has not chosen a zone
// gets the browser's preselected, with a note saying so. Nothing is saved
// until the user presses the button.
(function () {
  "use strict";
  var form = document.getElementById("zone-form");
  var select = document.getElementById("timezone");
  if (!form || !select) {
    return;
  }
  var have = {};
  Array.prototype.forEach.call(select.options, function (o) { have[o.value] = true; });
  function add(zone) {
    if (zone && !have[zone]) {
      have[zone] = true;
      var o = document.createElement("option");
      o.value = zone;
      o.textContent = zone;
      select.appendChild(o);
    }
  }
  if (typeof Intl.supportedValuesOf === "function") {
    Intl.supportedValuesOf("timeZone").forEach(add);
  }
  var browser = "";
  try {
    browser = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    browser = "";
  }
  if (!browser) {
    return;
  }
  add(browser);
  if (!form.dataset.zoneCurrent && select.getAttribute("aria-invalid") !== "true") {
    select.value = browser;
    var note = document.getElementById("timezone-detected");
    if (note) {
      note.textContent = note.dataset.text.replace("%s", browser);
      note.hidden = false;
    }
  }
})();

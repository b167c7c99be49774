// Peykar campaign builder: steps, rules, actions and goals are added and
// removed in place, and the "step" choices of rules and actions follow the
// step keys as they are typed. Rows come from the page's own <template>
// elements, so every label and message is the page's (and its language's);
// this file holds no text. Without it the form still saves what it shows.
(function () {
  "use strict";

  var form = document.querySelector("form[data-builder]");
  if (!form) return;

  // A container with data-rows holds a data-list of rows, a <template> of a
  // new row whose field names carry data-token (e.g. __S__) where the index
  // goes, a data-count input the server reads rows up to, and data-next,
  // the next unused index (removed rows leave gaps the server skips).
  function ownTemplate(box) {
    for (var el = box.firstElementChild; el; el = el.nextElementSibling) {
      if (el.tagName === "TEMPLATE") return el;
    }
    return null;
  }
  function own(box, selector) {
    var found = null;
    box.querySelectorAll(selector).forEach(function (el) {
      if (!found && el.closest("[data-rows]") === box) found = el;
    });
    return found;
  }

  function addRow(box) {
    var tpl = ownTemplate(box);
    var list = own(box, "[data-list]");
    var count = own(box, "input[data-count]");
    if (!tpl || !list || !count) return;
    var next = parseInt(box.getAttribute("data-next") || "0", 10);
    var html = tpl.innerHTML.split(box.getAttribute("data-token")).join(String(next));
    list.insertAdjacentHTML("beforeend", html);
    box.setAttribute("data-next", String(next + 1));
    count.value = String(next + 1);
    var row = list.lastElementChild;
    initRow(row);
    if (window.htmx) window.htmx.process(row); // a new goal's Jalali date echo
    refreshStepChoices();
    var first = row.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  }

  function initRow(row) {
    row.querySelectorAll(".action").forEach(actionRow);
    if (row.classList.contains("action")) actionRow(row);
  }

  // Show only the inputs the chosen action type uses.
  function actionRow(row) {
    if (row.hasAttribute("data-ready")) return;
    row.setAttribute("data-ready", "");
    var type = row.querySelector('select[name$=".type"]');
    function sync() {
      row.querySelectorAll("[data-for]").forEach(function (el) {
        el.hidden = type.value === "" || el.dataset.for.split(" ").indexOf(type.value) < 0;
      });
    }
    type.addEventListener("change", sync);
    sync();
  }

  // Each step row gets an id, so a rule that chose a step keeps it while
  // the step's key is retyped.
  var stepSeq = 0;
  function stepRows() {
    var rows = [];
    form.querySelectorAll("#f-steps [data-list] [data-step-row]").forEach(function (row) {
      if (!row.dataset.sid) row.dataset.sid = "s" + (++stepSeq);
      var key = row.querySelector("[data-step-key]").value.trim();
      if (key) rows.push({ sid: row.dataset.sid, key: key });
    });
    return rows;
  }

  function refreshStepChoices() {
    if (!form.querySelector("#f-steps")) return; // launched: steps are fixed
    var steps = stepRows();
    form.querySelectorAll("[data-list] select[data-step-choice]").forEach(function (sel) {
      var chosen = sel.selectedOptions[0];
      var sid = chosen && chosen.dataset.sid ? chosen.dataset.sid : "";
      var value = sel.value;
      if (!sid && value) {
        steps.forEach(function (s) { if (!sid && s.key === value) sid = s.sid; });
      }
      // Keep the first ("any" / "—") option and a stored choice that is no
      // step (the server's error names it); rebuild the rest.
      Array.prototype.slice.call(sel.options, 1).forEach(function (o) {
        if (!o.hasAttribute("data-missing")) o.remove();
      });
      var seen = {};
      steps.forEach(function (s) {
        if (seen[s.key]) return;
        seen[s.key] = true;
        var o = document.createElement("option");
        o.value = s.key;
        o.textContent = s.key;
        o.dataset.sid = s.sid;
        sel.appendChild(o);
        if (s.sid === sid) o.selected = true;
      });
      // A choice whose step was removed (or emptied) falls back to the
      // first option, which the browser selects when the chosen one goes.
    });
  }

  form.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add]");
    if (add && form.contains(add)) {
      ev.preventDefault();
      addRow(add.closest("[data-rows]"));
      return;
    }
    var remove = ev.target.closest("[data-remove]");
    if (remove && form.contains(remove)) {
      ev.preventDefault();
      var row = remove.closest("[data-row]");
      var box = row.parentElement.closest("[data-rows]");
      row.remove();
      refreshStepChoices();
      var next = box && box.querySelector("[data-add]");
      if (next) next.focus();
    }
  });
  form.addEventListener("input", function (ev) {
    if (ev.target.matches("[data-step-key]")) refreshStepChoices();
  });

  form.querySelectorAll("[data-list] .action").forEach(actionRow);
  refreshStepChoices();
})();

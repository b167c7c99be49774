// Segment builder: a click-through form of a segment rule (groups of
// field / operator / value conditions). The server writes the rule from the
// tree (POST /api/v1/segments/builder/rule) and reads a rule back into a
// tree with expr's parser (POST /api/v1/segments/builder/tree), so this file
// holds no expr parser of its own. The rule it writes goes into the form's
// rule textarea, whose input event makes app.js count and sample it; typing
// in that textarea switches to the text. When a
// rule does not fit the builder, the builder says so and the text stays the
// source of truth. Fields, operators and messages come from the page's
// data-* attributes. Event conditions (group "events") add an event type
// and, for counts and sums, a window; opened / clicked pick a campaign.
(function () {
  "use strict";

  var ATTR = "contact.attributes.";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  // Persian and Arabic-Indic digits typed in a number become ASCII digits.
  function asciiDigits(s) {
    return String(s).replace(/[\u06f0-\u06f9\u0660-\u0669]/g, function (d) {
      var c = d.charCodeAt(0);
      return String(c >= 0x06f0 ? c - 0x06f0 : c - 0x0660);
    }).replace(/[\u066b]/g, ".");
  }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (k) { if (k) e.appendChild(k); });
    return e;
  }

  function init(root) {
    var form = root.closest("form");
    var rule = form.querySelector("[name=rule]");
    var fields = JSON.parse(root.getAttribute("data-fields") || "[]");
    var ops = JSON.parse(root.getAttribute("data-ops") || "{}");
    var L = JSON.parse(root.getAttribute("data-labels") || "{}");
    var holder = root.querySelector("[data-builder-root]");
    var note = root.querySelector("[data-builder-note]");
    var modeButtons = root.querySelectorAll("[data-mode]");
    var tree = { match: "all", items: [] };
    var mode = "text";
    var timer = null, seq = 0, pending = null;
    var kindOfOp = {};
    Object.keys(ops).forEach(function (k) { ops[k].forEach(function (o) { kindOfOp[o] = k; }); });

    function msg(k) { return L["segbuilder." + k] || k; }
    function field(name) {
      for (var i = 0; i < fields.length; i++) if (fields[i].field === name) return fields[i];
      return null;
    }
    function fieldLabel(f) {
      return f.group === "attributes" ? f.field.slice(ATTR.length) : (L["segbuilder.field." + f.field] || f.field);
    }
    // An attribute in a rule but not in the sampled data joins the list,
    // its kind taken from its operator.
    function knowField(c) {
      if (!field(c.field) && c.field.indexOf(ATTR) === 0) {
        fields.push({ field: c.field, kind: kindOfOp[c.op] || "text", group: "attributes" });
      }
    }

    function setNote(text) {
      note.textContent = text || "";
      note.hidden = !text;
    }

    function setMode(m) {
      mode = m;
      holder.hidden = m !== "builder";
      if (m === "text") { clearTimeout(timer); seq++; root.removeAttribute("data-syncing"); }
      modeButtons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-mode") === m)); });
      root.setAttribute("data-mode-now", m);
    }

    // toBuilder reads the rule's text into the builder, or says why not.
    function toBuilder() {
      return post("/api/v1/segments/builder/tree", { rule: rule.value }).then(function (r) {
        if (r.ok && r.data.fits) {
          tree = r.data.tree || { match: "all" };
          tree.items = tree.items || [];
          walk(tree, knowField);
          setNote("");
          setMode("builder");
          render();
          return;
        }
        setNote(r.ok ? msg("no_fit") : msg("no_fit_error"));
        setMode("text");
      });
    }

    function walk(g, fn) {
      (g.items || []).forEach(function (it) { if (it.match) walk(it, fn); else fn(it); });
    }

    // sync asks the server for the rule the tree writes, after a pause.
    function sync(now) {
      clearTimeout(timer);
      pending = new Promise(function (resolve) {
        timer = setTimeout(function () {
          var mine = ++seq;
          root.setAttribute("data-syncing", "1");
          post("/api/v1/segments/builder/rule", { tree: tree }).then(function (r) {
            if (mine !== seq) return resolve(false);
            root.removeAttribute("data-syncing");
            holder.querySelectorAll("[aria-invalid]").forEach(function (x) { x.removeAttribute("aria-invalid"); });
            holder.querySelectorAll("[data-row-error]").forEach(function (x) { x.hidden = true; });
            if (!r.ok) {
              var e = r.data.error || {};
              var bad = e.field && holder.querySelector('[data-path="' + e.field + '"]');
              if (bad) {
                bad.setAttribute("aria-invalid", "true");
                var rowErr = bad.closest(".cond").querySelector("[data-row-error]");
                rowErr.textContent = msg("bad_value");
                rowErr.hidden = false;
              } else {
                setNote(e.message || String(r.status));
              }
              return resolve(false);
            }
            setNote("");
            rule.value = r.data.rule;
            rule.dispatchEvent(new Event("input", { bubbles: true }));
            resolve(true);
          });
        }, now ? 0 : 300);
      });
    }

    function newCondition() {
      var f = fields[0];
      return { field: f.field, op: ops[f.kind][0], value: "" };
    }

    function select(role, path, options, value, label) {
      var s = el("select", { "data-role": role, "data-path": path, "aria-label": label });
      options.forEach(function (o) {
        var opt = el("option", { value: o.value, text: o.text });
        if (o.value === value) opt.selected = true;
        (o.group ? o.group : s).appendChild(opt);
      });
      return s;
    }

    function fieldSelect(c, path) {
      var s = el("select", { "data-role": "field", "data-path": path + ".field", "aria-label": msg("field"), dir: "auto" });
      var groups = {};
      fields.forEach(function (f) {
        if (!groups[f.group]) {
          groups[f.group] = el("optgroup", { label: msg("group." + f.group) });
          s.appendChild(groups[f.group]);
        }
        var o = el("option", { value: f.field, text: fieldLabel(f) });
        if (f.field === c.field) o.selected = true;
        groups[f.group].appendChild(o);
      });
      s.addEventListener("change", function () {
        var f = field(s.value);
        if (kindOfOp[c.op] !== f.kind) { c.op = ops[f.kind][0]; c.value = ""; delete c.value2; }
        if (isEvent(f) && c.op === "between") { c.op = "gt"; delete c.value2; }
        c.field = f.field;
        eventDefaults(c, f);
        render();
        sync();
      });
      return s;
    }

    function valueInput(c, path, key, kind) {
      var attrs = { "data-role": key, "data-path": path + "." + key, "aria-label": msg(key === "value2" ? "value2" : "value") };
      if (kind === "number" || c.op === "last_days" || c.op === "more_days_ago") {
        attrs.inputmode = c.op === "last_days" || c.op === "more_days_ago" ? "numeric" : "decimal";
        attrs.dir = "ltr";
      } else if (c.op === "before" || c.op === "after") {
        attrs.type = "date";
        attrs.dir = "ltr";
      } else {
        attrs.dir = "auto";
      }
      var f = field(c.field);
      var list = null;
      if (f && f.values && f.values.length && f.group !== "events") {
        list = el("datalist", { id: "bl-" + path.replace(/[^a-z0-9]/gi, "-") + "-" + key });
        f.values.forEach(function (v) { list.appendChild(el("option", { value: v })); });
        attrs.list = list.id;
      }
      var i = el("input", attrs);
      i.value = c[key] || "";
      i.addEventListener("input", function () {
        var numeric = attrs.dir === "ltr" && attrs.type !== "date";
        c[key] = numeric ? asciiDigits(i.value).trim() : i.value;
        sync();
      });
      var span = el("span", { class: "val" }, [i, list]);
      return span;
    }

    // listInput edits one_of's values as one text, separated by commas
    // (Latin or Persian).
    function listInput(c, path) {
      var i = el("input", { "data-role": "values", "data-path": path + ".values", "aria-label": msg("values"), dir: "auto" });
      i.value = (c.values || []).join(", ");
      i.addEventListener("input", function () {
        c.values = i.value.split(/[,\u060c]/).map(function (v) { return v.trim(); }).filter(function (v) { return v !== ""; });
        sync();
      });
      return el("span", { class: "val" }, [i]);
    }

    // An event measure (count, sum, latest value) takes an event type; a
    // campaign field takes a campaign.
    function isEvent(f) { return f && f.group === "events" && f.kind !== "campaign"; }

    // eventDefaults gives a condition that moved to field f what f takes
    // (an event type, a window, a campaign) and drops what it does not.
    function eventDefaults(c, f) {
      if (isEvent(f)) c.event = c.event || (f.values && f.values[0]) || "";
      else delete c.event;
      if (f.window) c.window = c.window || "7d";
      else delete c.window;
      if (f.kind === "campaign" && !c.value && f.campaigns && f.campaigns.length) c.value = String(f.campaigns[0].id);
    }

    function textInput(c, path, key, label, options, ltr) {
      var attrs = { "data-role": key, "data-path": path + "." + key, "aria-label": label, dir: ltr ? "ltr" : "auto" };
      var list = null;
      if (options && options.length) {
        list = el("datalist", { id: "bl-" + path.replace(/[^a-z0-9]/gi, "-") + "-" + key });
        options.forEach(function (v) { list.appendChild(el("option", { value: v })); });
        attrs.list = list.id;
      }
      if (ltr) attrs.placeholder = "7d";
      var i = el("input", attrs);
      i.value = c[key] || "";
      i.addEventListener("input", function () { c[key] = ltr ? asciiDigits(i.value).trim() : i.value; sync(); });
      return el("span", { class: "val" }, [i, list]);
    }

    // campaignSelect picks a campaign by id; a name from a hand-written
    // rule stays as it is.
    function campaignSelect(c, path, f) {
      var options = (f.campaigns || []).map(function (k) { return { value: String(k.id), text: k.name + " (#" + k.id + ")" }; });
      if (c.value && !options.some(function (o) { return o.value === c.value; })) options.unshift({ value: c.value, text: c.value });
      var s = select("value", path + ".value", options, c.value, msg("campaign"));
      s.setAttribute("dir", "auto");
      s.addEventListener("change", function () { c.value = s.value; sync(); });
      return el("span", { class: "val" }, [s]);
    }

    function conditionRow(c, path, parent, idx) {
      var f = field(c.field) || fields[0];
      var kind = f.kind;
      var opList = ops[kind].filter(function (o) { return !(isEvent(f) && o === "between"); });
      var opSel = select("op", path + ".op", opList.map(function (o) { return { value: o, text: msg("op." + o) }; }), c.op, msg("op"));
      opSel.addEventListener("change", function () {
        var was = c.op;
        c.op = opSel.value;
        if (c.op !== "between") delete c.value2;
        if (c.op === "one_of" && was !== "one_of") { c.values = c.value ? [c.value] : []; c.value = ""; }
        if (c.op !== "one_of") delete c.values;
        if (kind === "bool") c.value = "";
        render();
        sync();
      });
      var row = el("div", { class: "cond", "data-path": path }, [fieldSelect(c, path)]);
      if (isEvent(f)) row.appendChild(textInput(c, path, "event", msg("event"), f.values, false));
      row.appendChild(opSel);
      if (kind === "campaign") row.appendChild(campaignSelect(c, path, f));
      else if (c.op === "one_of") row.appendChild(listInput(c, path));
      else if (kind !== "bool") row.appendChild(valueInput(c, path, "value", kind));
      if (c.op === "between") {
        row.appendChild(el("span", { text: msg("and") }));
        row.appendChild(valueInput(c, path, "value2", kind));
      }
      if (c.op === "last_days" || c.op === "more_days_ago") row.appendChild(el("span", { text: msg("days") }));
      if (f.window) {
        row.appendChild(el("span", { text: msg("within") }));
        row.appendChild(textInput(c, path, "window", msg("window"), ["24h", "7d", "30d", "2w"], true));
      }
      var rm = el("button", { type: "button", class: "secondary remove", "data-remove": path, "aria-label": msg("remove"), text: "×" });
      rm.addEventListener("click", function () { parent.items.splice(idx, 1); render(); sync(); });
      row.appendChild(rm);
      row.appendChild(el("span", { class: "field-error", "data-row-error": "", role: "alert", hidden: "" }));
      return row;
    }

    function groupBox(g, path, depth, parent, idx) {
      var match = select("match", path + ".match", [
        { value: "all", text: msg("match_all") }, { value: "any", text: msg("match_any") },
      ], g.match, msg("match"));
      match.addEventListener("change", function () { g.match = match.value; sync(); });
      var box = el("div", { class: depth ? "group nested" : "group", "data-path": path }, [el("div", { class: "group-head" }, [match])]);
      if (parent) {
        var rm = el("button", { type: "button", class: "secondary remove", "data-remove": path, text: msg("remove_group") });
        rm.addEventListener("click", function () { parent.items.splice(idx, 1); render(); sync(); });
        box.firstChild.appendChild(rm);
      }
      var list = el("div", { class: "items" });
      g.items = g.items || [];
      g.items.forEach(function (it, i) {
        var p = path + ".items[" + i + "]";
        list.appendChild(it.match ? groupBox(it, p, depth + 1, g, i) : conditionRow(it, p, g, i));
      });
      box.appendChild(list);
      var addC = el("button", { type: "button", class: "secondary", "data-add": "condition", text: msg("add_condition") });
      addC.addEventListener("click", function () { g.items.push(newCondition()); render(); sync(); focusLast(path); });
      var bar = el("div", { class: "actions" }, [addC]);
      if (depth === 0) {
        var addG = el("button", { type: "button", class: "secondary", "data-add": "group", text: msg("add_group") });
        addG.addEventListener("click", function () {
          g.items.push({ match: g.match === "all" ? "any" : "all", items: [newCondition()] });
          render();
          sync();
        });
        bar.appendChild(addG);
      }
      box.appendChild(bar);
      return box;
    }

    function focusLast(path) {
      var rows = holder.querySelectorAll('[data-path^="' + path + '.items"] [data-role=field]');
      if (rows.length) rows[rows.length - 1].focus();
    }

    function render() {
      holder.textContent = "";
      holder.appendChild(groupBox(tree, "tree", 0, null, 0));
    }

    modeButtons.forEach(function (b) {
      b.addEventListener("click", function () {
        if (b.getAttribute("data-mode") === "text") { setNote(""); setMode("text"); rule.focus(); } else toBuilder();
      });
    });
    // Typing in the rule's text makes the text the source of truth.
    rule.addEventListener("input", function (ev) {
      if (ev.isTrusted && mode === "builder") setMode("text");
    });
    // A save while the rule is being written waits for it.
    form.addEventListener("submit", function (ev) {
      if (mode !== "builder" || form.hasAttribute("data-flushed")) return;
      ev.preventDefault();
      sync(true);
      pending.then(function (ok) {
        if (!ok) return;
        form.setAttribute("data-flushed", "1");
        form.requestSubmit();
        form.removeAttribute("data-flushed");
      });
    });

    if (rule.value.trim() === "") {
      setMode("builder");
      render();
    } else {
      toBuilder();
    }
    root.setAttribute("data-builder-ready", "1");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-segment-builder]").forEach(init);
  });
})();

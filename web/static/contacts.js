// Peykar admin: contacts. Add and edit a contact (an edit sends only what
// changed, as PATCH), allow sending again, and the contact list's bulk bar
// (select rows or take the list's filter, confirm with the count, follow
// the job). Messages come from the page (data-msg-* attributes).
(function () {
  "use strict";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) opts.body = JSON.stringify(body);
    return fetch(path, opts).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  function msg(root, key) { return root.getAttribute("data-msg-" + key) || key; }

  // count picks the message for n: its "-one" form for one, when the page has it.
  function count(root, key, n) {
    return (n === 1 && root.getAttribute("data-msg-" + key + "-one")) || msg(root, key);
  }

  function fill(text, vals) {
    return text.replace(/\{(\w+)\}/g, function (all, k) { return Object.prototype.hasOwnProperty.call(vals, k) ? vals[k] : all; });
  }

  function number(n) {
    try { return new Intl.NumberFormat(document.documentElement.lang || "en").format(n); } catch (e) { return String(n); }
  }

  // showErrors puts each API error next to its field (attributes.city goes
  // to the attributes box), the rest in the form's error box.
  function showErrors(form, err) {
    form.querySelectorAll("[data-field-error]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    var box = form.querySelector("[data-error]");
    if (box) { box.hidden = true; box.textContent = ""; }
    if (!err) return;
    (err.errors && err.errors.length ? err.errors : [err]).forEach(function (e) {
      var field = (e.field || "").split(".")[0];
      var el = field && form.querySelector('[data-field-error="' + field + '"]');
      var text = (e.field && e.field !== field ? e.field + ": " : "") + e.message;
      if (!el) { el = box; text = (e.field ? e.field + ": " : "") + e.message; }
      if (!el) return;
      el.hidden = false;
      var p = document.createElement("span");
      p.textContent = text;
      if (el.textContent) el.appendChild(document.createElement("br"));
      el.appendChild(p);
    });
  }

  function splitTags(s) {
    return s.split(",").map(function (t) { return t.trim(); }).filter(function (t) { return t !== ""; });
  }

  // Attribute editor: rows of name and value; a value that was not a
  // string is edited as JSON.
  function attrEditor(root) {
    var rows = root.querySelector("[data-attr-rows]");
    var orig = {};
    try { orig = JSON.parse(root.getAttribute("data-attrs") || "{}") || {}; } catch (e) { orig = {}; }
    function addRow(key, value) {
      var isJSON = value !== undefined && typeof value !== "string";
      var row = document.createElement("div");
      row.className = "attr-row";
      row.setAttribute("data-attr-row", "");
      row.setAttribute("data-json", isJSON ? "true" : "false");
      var k = document.createElement("input");
      k.name = "attr-key"; k.dir = "auto"; k.value = key || "";
      k.setAttribute("aria-label", msg(root, "key")); k.placeholder = msg(root, "key");
      var v = document.createElement("input");
      v.name = "attr-value"; v.value = value === undefined ? "" : (isJSON ? JSON.stringify(value) : value);
      v.dir = isJSON ? "ltr" : "auto";
      v.setAttribute("aria-label", msg(root, "value")); v.placeholder = msg(root, "value");
      var rm = document.createElement("button");
      rm.type = "button"; rm.className = "secondary"; rm.textContent = "×";
      rm.setAttribute("aria-label", msg(root, "remove"));
      rm.addEventListener("click", function () { row.remove(); });
      row.appendChild(k); row.appendChild(v); row.appendChild(rm);
      rows.appendChild(row);
      return row;
    }
    Object.keys(orig).sort().forEach(function (k) { addRow(k, orig[k]); });
    root.querySelector("[data-attr-add]").addEventListener("click", function () {
      addRow("", undefined).querySelector("input").focus();
    });
    return {
      orig: orig,
      // values returns the rows as an object, or {error} naming a bad row.
      values: function () {
        var out = {}, error = null;
        rows.querySelectorAll("[data-attr-row]").forEach(function (row) {
          var k = row.querySelector("[name=attr-key]").value.trim();
          var raw = row.querySelector("[name=attr-value]").value;
          if (k === "" || error) return;
          if (Object.prototype.hasOwnProperty.call(out, k)) { error = { key: k, kind: "dup" }; return; }
          if (row.getAttribute("data-json") === "true") {
            try { out[k] = JSON.parse(raw); } catch (e) { error = { key: k, kind: "json" }; }
          } else {
            out[k] = raw;
          }
        });
        return error ? { error: error } : { attrs: out };
      }
    };
  }

  function attrError(form, e) {
    var key = e.kind === "dup" ? "dup-key" : "bad-json";
    var text = fill(form.getAttribute("data-msg-" + key) || "", { key: e.key });
    showErrors(form, { field: "attributes", message: text });
  }

  // Add a contact: POST /api/v1/contacts, then its page.
  function contactNew(form) {
    var attrs = attrEditor(form.querySelector("[data-attr-editor]"));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = attrs.values();
      if (v.error) { attrError(form, v.error); return; }
      var body = {
        email: form.querySelector("[name=email]").value.trim(),
        name: form.querySelector("[name=name]").value,
        tags: splitTags(form.querySelector("[name=tags]").value),
        attributes: v.attrs
      };
      var btn = form.querySelector("[type=submit]");
      btn.disabled = true;
      api("POST", "/api/v1/contacts", body).then(function (r) {
        btn.disabled = false;
        if (r.ok) { location.assign("/admin/contacts/" + r.data.id); return; }
        var err = r.data.error || { message: String(r.status) };
        showErrors(form, err);
        if (r.status === 409 && err.id) {
          var box = form.querySelector('[data-field-error="email"]');
          box.hidden = false;
          box.textContent = msg(form, "exists") + " ";
          var a = document.createElement("a");
          a.href = "/admin/contacts/" + err.id;
          a.textContent = body.email;
          a.dir = "ltr";
          box.appendChild(a);
        }
      });
    });
  }

  // Edit a contact: only what changed goes out, as PATCH.
  function contactEdit(form) {
    var attrs = attrEditor(form.querySelector("[data-attr-editor]"));
    form.querySelectorAll("[data-tag]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        chip.setAttribute("aria-pressed", chip.getAttribute("aria-pressed") === "true" ? "false" : "true");
      });
    });
    var status = form.querySelector("[data-status]");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = attrs.values();
      if (v.error) { attrError(form, v.error); return; }
      var patch = {};
      var name = form.querySelector("[name=name]").value;
      if (name.trim() !== form.getAttribute("data-name")) patch.name = name;
      var changed = {}, any = false;
      Object.keys(attrs.orig).forEach(function (k) {
        if (!Object.prototype.hasOwnProperty.call(v.attrs, k)) { changed[k] = null; any = true; }
      });
      Object.keys(v.attrs).forEach(function (k) {
        if (JSON.stringify(v.attrs[k]) !== JSON.stringify(attrs.orig[k])) { changed[k] = v.attrs[k]; any = true; }
      });
      if (any) patch.attributes = changed;
      var add = splitTags(form.querySelector("[name=tags_add]").value);
      if (add.length) patch.tags_add = add;
      var remove = [];
      form.querySelectorAll('[data-tag][aria-pressed="true"]').forEach(function (c) { remove.push(c.getAttribute("data-tag")); });
      if (remove.length) patch.tags_remove = remove;
      showErrors(form, null);
      if (Object.keys(patch).length === 0) { status.textContent = msg(form, "unchanged"); return; }
      status.textContent = msg(form, "saving");
      api("PATCH", "/api/v1/contacts/" + form.getAttribute("data-id"), patch).then(function (r) {
        if (r.ok) { location.reload(); return; }
        status.textContent = "";
        showErrors(form, r.data.error || { message: String(r.status) });
      });
    });
  }

  // Allow sending again: PATCH the status back to active.
  function unsuppress(btn) {
    btn.addEventListener("click", function () {
      if (!window.confirm(btn.getAttribute("data-msg-confirm"))) return;
      api("PATCH", "/api/v1/contacts/" + btn.getAttribute("data-id"), { status: btn.getAttribute("data-contact-status") }).then(function (r) {
        if (r.ok) { location.reload(); return; }
        var box = btn.parentNode.querySelector("[data-error]");
        box.hidden = false;
        box.textContent = (r.data.error && r.data.error.message) || String(r.status);
      });
    });
  }

  // The bulk bar: the list's filter or the selected rows, an action, a
  // confirmation that says how many, then the job's progress page.
  function bulkBar(form) {
    var total = parseInt(form.getAttribute("data-total"), 10) || 0;
    var filter = JSON.parse(form.getAttribute("data-filter") || "{}");
    var boxes = Array.prototype.slice.call(document.querySelectorAll('#contacts-table input[name=ids]'));
    var all = document.getElementById("select-all");
    var scopeIDs = form.querySelector("input[name=scope][value=ids]");
    var scopeFilter = form.querySelector("input[name=scope][value=filter]");
    var action = form.querySelector("[name=action]");
    var tag = form.querySelector("[name=tag]");
    var confirmBox = form.querySelector("#bulk-confirm");
    var pending = null;
    function selected() {
      return boxes.filter(function (b) { return b.checked; }).map(function (b) { return parseInt(b.value, 10); });
    }
    function refresh() {
      var n = selected().length;
      form.querySelector("[data-scope-all]").textContent = fill(count(form, "all", total), { n: number(total) });
      form.querySelector("[data-scope-selected]").textContent = fill(count(form, "selected", n), { n: number(n) });
      scopeIDs.disabled = n === 0;
      if (n === 0) scopeFilter.checked = true;
      if (all) all.checked = n > 0 && n === boxes.length;
      var needsTag = action.value === "tag" || action.value === "untag";
      form.querySelectorAll("[data-tag-field]").forEach(function (el) { el.hidden = !needsTag; });
      confirmBox.hidden = true;
      pending = null;
    }
    boxes.forEach(function (b) {
      b.addEventListener("change", function () { refresh(); if (b.checked) scopeIDs.checked = true; });
    });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        refresh();
        if (all.checked) scopeIDs.checked = true;
      });
    }
    action.addEventListener("change", refresh);
    tag.addEventListener("input", function () { confirmBox.hidden = true; pending = null; });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      showErrors(form, null);
      var body = { action: action.value };
      var n = total;
      if (scopeIDs.checked && !scopeIDs.disabled) {
        body.ids = selected();
        n = body.ids.length;
      } else {
        body.filter = filter;
      }
      if (action.value === "tag" || action.value === "untag") {
        body.tag = tag.value.trim();
        if (!body.tag) { showErrors(form, { message: msg(form, "need-tag") }); tag.focus(); return; }
      }
      pending = body;
      form.querySelector("#bulk-confirm-text").textContent =
        fill(count(form, "confirm-" + action.value, n), { n: number(n), tag: body.tag || "" });
      confirmBox.hidden = false;
      form.querySelector("#bulk-confirm-yes").focus();
    });
    form.querySelector("#bulk-confirm-no").addEventListener("click", function () {
      confirmBox.hidden = true;
      pending = null;
    });
    form.querySelector("#bulk-confirm-yes").addEventListener("click", function () {
      if (!pending) return;
      var yes = this;
      yes.disabled = true;
      api("POST", "/api/v1/contacts/bulk", pending).then(function (r) {
        yes.disabled = false;
        if (r.ok) { location.assign("/admin/bulk/" + r.data.id); return; }
        confirmBox.hidden = true;
        showErrors(form, r.data.error || { message: String(r.status) });
      });
    });
    refresh();
  }

  function init() {
    document.querySelectorAll("[data-contact-new]").forEach(contactNew);
    document.querySelectorAll("[data-contact-edit]").forEach(contactEdit);
    document.querySelectorAll("[data-contact-status]").forEach(unsuppress);
    document.querySelectorAll("[data-bulk]").forEach(bulkBar);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

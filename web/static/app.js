// Peykar admin: the few live parts of the pages (segment counts, template
// previews, test sends, CSV uploads). They call the JSON API with the
// session cookie and the CSRF token from <meta name="csrf-token">. Messages
// come from the page (data-msg-* attributes), never from this file.
(function () {
  "use strict";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (resp.status === 403) forbidden(data);
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  // forbidden puts the page's own words on an API refusal: the layout's
  // <meta name="msg-forbidden"> holds the message ("Your role (%s) may not
  // do this: it needs the %s role…") and the roles' names.
  function forbidden(data) {
    var m = document.querySelector('meta[name="msg-forbidden"]');
    if (!m || !data.error || !data.error.role) return;
    var need = m.getAttribute("data-" + data.error.role) || data.error.role;
    data.error.message = m.content.replace("%s", m.getAttribute("data-role")).replace("%s", need);
  }

  function debounce(fn, ms) {
    var t;
    return function () {
      clearTimeout(t);
      t = setTimeout(fn, ms);
    };
  }

  function msg(root, key) { return root.getAttribute("data-msg-" + key) || key; }

  // num writes n as the page's language writes numbers: Persian digits and
  // separators in the Persian page, as the server's locale does.
  var numbers = new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US", { useGrouping: true });
  function num(n) { return typeof n === "number" ? numbers.format(n) : String(n); }

  // showError renders an API error, pointing at its position in src.
  function showError(el, err, src) {
    el.textContent = "";
    el.removeAttribute("data-worded");
    if (!err) { el.hidden = true; return; }
    el.hidden = false;
    var p = document.createElement("p");
    var where = "";
    if (err.line) where = " (" + num(err.line) + ":" + num(err.column || 1) + ")";
    else if (err.position) where = " (" + num(err.position) + ")";
    p.textContent = (err.field ? err.field + ": " : "") + err.message + where;
    el.appendChild(p);
    // A compiler's message is in English (the API's); the page asks for it
    // in its own language (data-words: the kind of source, see web/words_route.go).
    var words = el.getAttribute("data-words");
    if (words && err.message && /^(rule|html|subject|text)$/.test(err.field || "")) {
      var q = "?kind=" + encodeURIComponent(words) + "&message=" + encodeURIComponent(err.message) +
        "&placed=" + (err.line || err.position ? "1" : "0");
      api("GET", "/admin/words" + q).then(function (r) {
        if (r.ok && r.data.text && p.isConnected) {
          p.textContent = (err.field ? err.field + ": " : "") + r.data.text + where;
          el.setAttribute("data-worded", "1");
        }
      });
    }
    // Point at the error: the offending line with a caret under the column.
    var line = src, col = 0;
    if (src && err.line) {
      line = src.split("\n")[err.line - 1] || "";
      col = err.column || 1;
    } else if (src && err.position) {
      col = err.position;
    }
    if (src && col) {
      var pre = document.createElement("pre");
      pre.className = "mono";
      pre.dir = "ltr";
      pre.textContent = line + "\n" + " ".repeat(Math.max(0, col - 1)) + "^";
      el.appendChild(pre);
    }
  }

  // Segment editor: live count and sample as the rule is typed.
  function segmentEditor(root) {
    var rule = root.querySelector("[name=rule]");
    var count = root.querySelector("[data-count]");
    var sample = root.querySelector("[data-sample]");
    var errBox = root.querySelector("[data-error]");
    var seq = 0;
    var run = function () {
      var mine = ++seq;
      count.textContent = msg(root, "counting");
      api("POST", "/api/v1/segments/preview", { rule: rule.value }).then(function (r) {
        if (mine !== seq) return;
        if (!r.ok) {
          count.textContent = "—";
          sample.textContent = "";
          rule.setAttribute("aria-invalid", "true");
          showError(errBox, r.data.error || { message: String(r.status) }, rule.value);
          return;
        }
        rule.removeAttribute("aria-invalid");
        showError(errBox, null);
        count.textContent = msg(root, "count").replace("%d", num(r.data.count));
        sample.textContent = "";
        (r.data.sample || []).forEach(function (c) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = "/admin/contacts/" + c.id;
          a.dir = "auto";
          a.textContent = (c.name ? c.name + " · " : "") + c.email;
          li.appendChild(a);
          sample.appendChild(li);
        });
      });
    };
    rule.addEventListener("input", debounce(run, 250));
    if (rule.value) run();
  }

  // Template editor: live preview for a chosen contact (desktop and phone
  // width), the pre-send checks, and test sends. A template that cannot be
  // rendered shows its error in place of the preview, never an older render.
  function templateEditor(root) {
    var fields = ["name", "subject", "html", "text", "contact_id", "transactional"].map(function (n) { return root.querySelector("[name=" + n + "]"); });
    var frame = root.querySelector("iframe[data-preview]");
    var phone = root.querySelector("iframe[data-preview-phone]");
    var previews = root.querySelector("[data-previews]");
    var subject = root.querySelector("[data-preview-subject]");
    var errBox = root.querySelector("[data-error]");
    var checks = root.querySelector("#checks");
    var seq = 0;
    // data-preview-loaded marks both previews drawn (for screenshots and tests).
    [frame, phone].forEach(function (f) {
      if (!f) return;
      f.addEventListener("load", function () {
        f.setAttribute("data-loaded", "1");
        if (frame.getAttribute("data-loaded") && (!phone || phone.getAttribute("data-loaded"))) root.setAttribute("data-preview-loaded", "1");
      });
    });
    var run = function () {
      var mine = ++seq;
      var body = {
        name: fields[0].value, subject: fields[1].value, html: fields[2].value, text: fields[3].value,
        contact_id: parseInt(fields[4].value || "0", 10) || 0,
        transactional: !!(fields[5] && fields[5].checked),
      };
      api("POST", "/api/v1/templates/preview", body).then(function (r) {
        if (mine !== seq) return;
        if (!r.ok) {
          var err = r.data.error || { message: String(r.status) };
          showError(errBox, err);
          var lead = document.createElement("strong");
          lead.textContent = msg(root, "broken");
          errBox.insertBefore(lead, errBox.firstChild);
          subject.textContent = "";
          frame.srcdoc = "";
          if (phone) phone.srcdoc = "";
          if (previews) previews.hidden = true;
          root.setAttribute("data-preview-state", "error");
          return;
        }
        showError(errBox, null);
        if (previews) previews.hidden = false;
        subject.textContent = r.data.subject;
        root.removeAttribute("data-preview-loaded");
        var doc = '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><base target="_blank">' + r.data.html;
        frame.removeAttribute("data-loaded");
        if (phone) phone.removeAttribute("data-loaded");
        frame.srcdoc = doc;
        if (phone) phone.srcdoc = doc;
        if (checks) showChecks(root, checks, r.data.checks || []);
        root.setAttribute("data-preview-state", "ok");
      });
    };
    fields.forEach(function (f) {
      if (!f) return;
      f.addEventListener("input", debounce(run, 300));
      f.addEventListener("change", debounce(run, 300));
    });
    run();
    var send = root.querySelector("[data-test-send]");
    if (send) {
      send.addEventListener("click", function () {
        var to = root.querySelector("[name=test_to]");
        var out = root.querySelector("[data-test-result]");
        out.textContent = msg(root, "sending");
        api("POST", "/api/v1/templates/" + send.getAttribute("data-test-send") + "/test", { to: to.value }).then(function (r) {
          out.textContent = r.ok ? msg(root, "sent") : (r.data.error ? r.data.error.message : String(r.status));
        });
      });
    }
  }

  // showChecks lists the pre-send checks: each one's name in the page's
  // language, passed or failed, and what failed (links, images, fields).
  function showChecks(root, list, checks) {
    list.textContent = "";
    var failed = 0;
    checks.forEach(function (c) {
      var li = document.createElement("li");
      li.className = c.ok ? "check-ok" : "check-fail";
      li.setAttribute("data-check", c.name);
      li.textContent = (c.ok ? "✓ " : "✗ ") + msg(root, "check-" + c.name);
      var english = (document.documentElement.lang || "en").indexOf("en") === 0;
      if (c.ok && c.name === "size" && c.items) li.textContent += " (" + c.items.join(", ") + ")";
      if (!c.ok) {
        failed++;
        var why = document.createElement("small");
        why.dir = "auto";
        why.textContent = english || !c.items ? c.message : c.items.join(" · ");
        li.appendChild(document.createElement("br"));
        li.appendChild(why);
      }
      list.appendChild(li);
    });
    if (checks.length && !failed) {
      var ok = document.createElement("li");
      ok.className = "check-ok";
      ok.textContent = msg(root, "checks-ok");
      list.appendChild(ok);
    }
  }

  // CSV import: upload with the API, then follow the import's own page.
  function importForm(form) {
    // The file's kind shows its own choices (events: create_contacts).
    function kind() {
      var k = form.querySelector("[name=kind]:checked");
      return k ? k.value : "contacts";
    }
    form.querySelectorAll("[name=kind]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        form.querySelectorAll("[data-import-for]").forEach(function (box) {
          box.hidden = box.getAttribute("data-import-for") !== kind();
        });
      });
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var out = form.querySelector("[data-error]");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      out.hidden = false;
      out.textContent = msg(form, "uploading");
      var data = new FormData();
      data.append("mode", form.querySelector("[name=mode]").value);
      ["delimiter", "tag_separator"].forEach(function (name) {
        var el = form.querySelector("[name=" + name + "]");
        if (el) data.append(name, el.value);
      });
      var path = "/api/v1/contacts/import";
      if (kind() === "events") {
        path = "/api/v1/events/import";
        data.append("create_contacts", form.querySelector("[name=create_contacts]").checked ? "true" : "false");
      }
      data.append("file", form.querySelector("[name=file]").files[0]);
      api("POST", path, data).then(function (r) {
        button.disabled = false;
        if (!r.ok) {
          showError(out, r.data.error || { message: String(r.status) });
          return;
        }
        window.location.href = "/admin/imports/" + r.data.id;
      });
    });
  }

  // Analytics: enqueue a recompute and say so.
  function recompute(root) {
    var button = root.querySelector("button");
    var out = root.querySelector("[data-recompute-result]");
    button.addEventListener("click", function () {
      button.disabled = true;
      api("POST", "/api/v1/analytics/recompute").then(function (r) {
        button.disabled = false;
        if (!r.ok) {
          out.textContent = (r.data.error && r.data.error.message) || String(r.status);
          return;
        }
        out.textContent = msg(root, r.data.already_queued ? "already" : "queued");
      });
    });
  }

  // Rule editor: show only the inputs the chosen action type uses (without
  // this script they all show, and the server ignores the others).
  function actionRow(row) {
    var type = row.querySelector('select[name$=".type"]');
    function sync() {
      row.querySelectorAll("[data-for]").forEach(function (el) {
        el.hidden = type.value === "" || el.dataset.for.split(" ").indexOf(type.value) < 0;
      });
    }
    type.addEventListener("change", sync);
    sync();
  }

  // Language switcher: remember the choice for a year, then reload.
  function langSwitch(a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      document.cookie = "peykar_lang=" + a.dataset.lang + "; path=/admin; max-age=31536000; SameSite=Lax";
      window.location.reload();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("a[data-lang]").forEach(langSwitch);
    document.querySelectorAll("#f-rules .action").forEach(actionRow);
    document.querySelectorAll("[data-segment-editor]").forEach(segmentEditor);
    document.querySelectorAll("[data-template-editor]").forEach(templateEditor);
    document.querySelectorAll("form[data-import]").forEach(importForm);
    document.querySelectorAll("[data-recompute]").forEach(recompute);
  });
})();

// Confirmations: a form with data-confirm="question" submits only when the
// user agrees (launch, cancel). Declared in the page, so no inline script
// is needed (the CSP forbids it); without this script the form submits.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      ev.preventDefault();
    }
  }, true);
})();

// Phone width: a table wider than its .table-wrap scrolls inside it, and a
// hint before the wrapper says so ("Scroll →", mirrored in right-to-left
// pages); the hint's text comes from the page (meta scroll-hint). It is
// shown only while the table overflows, and follows resizes, htmx swaps
// and a table that grows after the page loaded (a report's live numbers,
// a late font): each wrapper and its table are watched for size changes.
(function () {
  "use strict";
  var watch = window.ResizeObserver ? new ResizeObserver(function () { update(); }) : null;
  function update() {
    var meta = document.querySelector('meta[name="scroll-hint"]');
    if (!meta) return;
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var hint = wrap.previousElementSibling;
      if (!hint || !hint.classList.contains("scroll-hint")) {
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.setAttribute("aria-hidden", "true");
        hint.textContent = meta.getAttribute("content");
        wrap.parentNode.insertBefore(hint, wrap);
      }
      var hidden = wrap.scrollWidth <= wrap.clientWidth;
      if (hint.hidden !== hidden) hint.hidden = hidden;
      if (watch && wrap.dataset.hintWatched !== "1") {
        wrap.dataset.hintWatched = "1";
        watch.observe(wrap);
        if (wrap.firstElementChild) watch.observe(wrap.firstElementChild);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", update);
  window.addEventListener("load", update);
  window.addEventListener("resize", update);
  document.addEventListener("htmx:afterSettle", update);
})();

// Copy buttons: a button with data-copy="id" copies the value of the
// element with that id (the signup form's URL and embed snippet), and says
// so in its own label for a moment; without the Clipboard API it selects
// the text for the user to copy.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target instanceof Element ? ev.target.closest("[data-copy]") : null;
    if (!btn) return;
    var src = document.getElementById(btn.getAttribute("data-copy"));
    if (!src) return;
    src.select();
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(src.value).then(function () {
      btn.setAttribute("data-copied", "1");
    }, function () {});
  });
})();

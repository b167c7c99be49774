// Peykar's visual email editor: GrapesJS with its newsletter preset
// (vendored under vendor/), wired to the template form. The HTML textarea
// stays the source of truth that is saved and previewed: the visual editor
// writes its inlined, email-safe HTML into it (and its design JSON into the
// hidden "design" field, so the template reopens as it was built). The code
// view edits the textarea directly; editing it there drops the design, and
// the visual editor then reopens from the HTML.
(function () {
  "use strict";

  function el(id) { return document.getElementById(id); }

  // CATEGORY puts each block (the preset's and ours) in a category of the
  // block panel; their names, and the blocks', are the page's
  // (editor.block.* and editor.category.* in web/i18n, given in the
  // #editor-words JSON element).
  var CATEGORY = {
    sect100: "layout", sect50: "layout", sect30: "layout", sect37: "layout", divider: "layout", spacer: "layout",
    heading: "content", text: "content", "text-sect": "content", image: "content", button: "content", quote: "content",
    link: "content", "link-block": "content", "grid-items": "content", "list-items": "content", footer: "content",
    "raw-html": "advanced",
  };
  var words = null;

  function editorWords() {
    if (words) return words;
    var node = el("editor-words");
    try { words = node ? JSON.parse(node.textContent) : {}; } catch (e) { words = {}; }
    words.blocks = words.blocks || {};
    words.categories = words.categories || {};
    return words;
  }

  // blockWords is a block's label and category in the page's language
  // (the block's id when the catalogue has no name for it).
  function blockWords(id) {
    var w = editorWords(), cat = CATEGORY[id] || "content";
    return { label: w.blocks[id] || id, category: w.categories[cat] || cat };
  }

  // fire tells app.js's preview that the HTML changed.
  function fire(node) { node.dispatchEvent(new Event("input", { bubbles: true })); }

  // bodyOf returns what GrapesJS should load from a full HTML document:
  // the body's inner HTML (the <html>, <head> and <body> wrappers are
  // written back on export).
  function bodyOf(html) {
    if (!/<body[\s>]/i.test(html)) return html;
    var doc = new DOMParser().parseFromString(html, "text/html");
    return doc.body.innerHTML;
  }

  // wrap makes the exported body a full, direction-aware email document.
  function wrap(body, dir) {
    // GrapesJS exports its wrapper as a <body> element: keep what is
    // inside it, so the document has one body (ours, with the direction).
    body = body.replace(/^\s*<body\b[^>]*>/i, "").replace(/<\/body>\s*$/i, "");
    var lang = dir === "rtl" ? "fa" : "en";
    var align = dir === "rtl" ? "right" : "left";
    return '<!doctype html>\n<html lang="' + lang + '" dir="' + dir + '">\n<head>\n<meta charset="utf-8">\n' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">\n</head>\n' +
      '<body dir="' + dir + '" style="margin:0;padding:0;direction:' + dir + ';text-align:' + align + '">\n' +
      body + "\n</body>\n</html>\n";
  }

  // RAW is the raw HTML block's component type (templates.RawHTMLType):
  // its markup is the "raw" property, kept verbatim in the design and
  // written as it is into the HTML, inside a <div data-raw-html> that lets
  // the code view's HTML reopen as the same block.
  var RAW = "peykar-raw-html";
  var URL_ATTRS = ["href", "src", "action", "formaction", "xlink:href", "background", "poster"];

  // unsafeMarkup lists what no email may carry, as templates.UnsafeMarkup
  // does on the server (which refuses such a design on save): <script>,
  // <iframe>, <object>, <embed>, event handlers, javascript: URLs. It reads
  // the tags as text: parsing markup with handlers into a DOM, even an
  // inert one, trips the page's Content Security Policy.
  function unsafeMarkup(html) {
    var out = [];
    function add(s) { if (out.indexOf(s) < 0) out.push(s); }
    var tagRe = /<([a-zA-Z][^\s\/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g, attrRe = /([^\s"'>\/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g;
    var t;
    while ((t = tagRe.exec(html)) !== null) {
      var tag = t[1].toLowerCase(), a;
      if (["script", "iframe", "object", "embed"].indexOf(tag) >= 0) add("<" + tag + ">");
      attrRe.lastIndex = 0;
      while ((a = attrRe.exec(t[2])) !== null) {
        var k = a[1].toLowerCase(), v = decodeEntities((a[2] || "").replace(/^["']|["']$/g, ""));
        if (k.indexOf("on") === 0) add(k + " on <" + tag + ">");
        else if (URL_ATTRS.indexOf(k) >= 0 && /^javascript:/i.test(v.replace(/[\u0000-\u0020]/g, ""))) {
          add("javascript: in " + k + " of <" + tag + ">");
        }
      }
    }
    return out;
  }

  // decodeEntities decodes the character references an attribute may
  // hide a javascript: scheme behind.
  function decodeEntities(s) {
    return s.replace(/&#x([0-9a-f]+);?/gi, function (_, h) { return String.fromCharCode(parseInt(h, 16)); })
      .replace(/&#(\d+);?/g, function (_, d) { return String.fromCharCode(parseInt(d, 10)); })
      .replace(/&colon;/gi, ":").replace(/&tab;/gi, "\t").replace(/&newline;/gi, "\n");
  }

  // editRaw opens the raw HTML block's code box; Save keeps the markup
  // only when it is safe for email, and otherwise says what was refused.
  function editRaw(editor, root, model) {
    function m(key) { return root.getAttribute("data-msg-" + key) || key; }
    var box = document.createElement("div");
    box.className = "raw-html-box stack";
    box.setAttribute("data-raw-editor", "");
    var label = document.createElement("label");
    label.htmlFor = "raw-html-code";
    label.textContent = m("raw-label");
    var ta = document.createElement("textarea");
    ta.id = "raw-html-code";
    ta.rows = 10;
    ta.dir = "ltr";
    ta.spellcheck = false;
    ta.className = "mono";
    ta.value = model.get("raw") || "";
    var err = document.createElement("p");
    err.className = "field-error";
    err.id = "raw-html-error";
    err.setAttribute("role", "alert");
    err.hidden = true;
    ta.setAttribute("aria-describedby", err.id);
    var save = document.createElement("button");
    save.type = "button";
    save.id = "raw-html-save";
    save.textContent = m("raw-save");
    save.addEventListener("click", function () {
      var refused = unsafeMarkup(ta.value);
      if (refused.length) {
        err.textContent = m("raw-refused").replace("%s", refused.join(", "));
        err.hidden = false;
        ta.setAttribute("aria-invalid", "true");
        root.setAttribute("data-raw-state", "refused");
        return;
      }
      model.set("raw", ta.value);
      root.setAttribute("data-raw-state", "saved");
      editor.trigger("peykar:raw"); // the form's HTML and design follow
      editor.Modal.close();
    });
    box.appendChild(label);
    box.appendChild(ta);
    box.appendChild(err);
    box.appendChild(save);
    root.setAttribute("data-raw-state", "editing");
    editor.Modal.open({ title: m("raw-title"), content: box });
    ta.focus();
  }

  // withRawHTML puts each raw HTML block's markup, as written, in place of
  // its placeholder in the editor's inlined export.
  function withRawHTML(editor, html) {
    var raw = {};
    editor.getWrapper().find("[data-raw-html]").forEach(function (c) { raw[c.getId()] = c.get("raw") || ""; });
    return html.replace(/<div data-raw-html="([^"]*)"[^>]*><\/div>/g, function (_, id) {
      return "<div data-raw-html>" + (raw[id] || "") + "</div>";
    });
  }

  function addRawType(editor, root) {
    editor.Components.addType(RAW, {
      isComponent: function (el) {
        if (el && el.getAttribute && el.getAttribute("data-raw-html") !== null) {
          return { type: RAW, raw: el.innerHTML, components: [] };
        }
      },
      model: {
        defaults: {
          tagName: "div", name: blockWords("raw-html").label, droppable: false, editable: false,
          attributes: { "data-raw-html": "" }, raw: "",
        },
        // A placeholder: the inliner would restyle the markup (see
        // withRawHTML, which puts it back as written).
        toHTML: function () { return '<div data-raw-html="' + this.getId() + '"></div>'; },
      },
      view: {
        events: { dblclick: "onActive" },
        init: function () { this.listenTo(this.model, "change:raw", this.render); },
        onActive: function () { editRaw(editor, root, this.model); },
        onRender: function () {
          var raw = this.model.get("raw");
          if (raw) this.el.innerHTML = raw;
          else this.el.textContent = root.getAttribute("data-msg-raw-empty") || blockWords("raw-html").label;
        },
      },
    });
  }

  // Blocks the preset lacks: heading, spacer, social/footer and raw HTML,
  // named in the page's language.
  function addBlocks(editor) {
    var bm = editor.BlockManager;
    var cell = "padding:8px 24px;font-family:Tahoma,Arial,Helvetica,sans-serif";
    function named(id, def) {
      var w = blockWords(id);
      def.label = w.label;
      def.category = w.category;
      return def;
    }
    bm.add("heading", named("heading", {
      content: '<h1 style="margin:0;padding:16px 24px 8px;font-family:Tahoma,Arial,Helvetica,sans-serif;font-size:24px;line-height:32px;color:#111111">' + blockWords("heading").label + '</h1>',
    }));
    bm.add("spacer", named("spacer", {
      content: '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="height:24px;font-size:0;line-height:0">&nbsp;</td></tr></table>',
    }));
    bm.add("footer", named("footer", {
      content: '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="' + cell +
        ';font-size:12px;line-height:18px;color:#777777;text-align:center">' +
        '<a href="https://instagram.com/" style="color:#0b5cad">Instagram</a> · <a href="https://x.com/" style="color:#0b5cad">X</a> · ' +
        '<a href="https://linkedin.com/" style="color:#0b5cad">LinkedIn</a><br>Shop · 1 Market Street<br>' +
        '<a href="{{ unsubscribe_url }}" style="color:#0b5cad">Unsubscribe</a> · <a href="{{ .PreferencesURL }}" style="color:#0b5cad">Manage preferences</a></td></tr></table>',
    }));
    bm.add("raw-html", named("raw-html", {
      activate: true,
      content: { type: RAW },
    }));
  }

  // insertField puts a personalisation field where the author is typing:
  // at the caret of a text being edited in the visual editor, or at the
  // textarea's cursor in the code view.
  function insertField(editor, visual, value) {
    if (visual && editor) {
      var rte = editor.RichTextEditor.globalRte;
      if (editor.getEditing() && rte && rte.insertHTML) {
        rte.insertHTML(value);
        return;
      }
      var sel = editor.getSelected();
      if (sel) {
        sel.append({ type: "textnode", content: value });
        return;
      }
      editor.getWrapper().append({ type: "text", content: value });
      return;
    }
    var ta = el("html");
    var at = ta.selectionStart || ta.value.length;
    ta.value = ta.value.slice(0, at) + value + ta.value.slice(ta.selectionEnd || at);
    ta.selectionStart = ta.selectionEnd = at + value.length;
    fire(ta);
  }

  function init() {
    var root = document.querySelector("[data-template-editor]");
    var form = el("template-form");
    if (!root || !form || !window.grapesjs) return;
    var html = el("html"), design = el("design"), dirSel = el("direction");
    var visualBox = el("visual"), codeBox = el("code");
    var editor = null, visual = false, exporting = false;

    function dir() { return dirSel.value === "rtl" ? "rtl" : "ltr"; }

    function applyDir() {
      if (!editor) return;
      var body = editor.Canvas.getBody();
      if (body) {
        body.dir = dir();
        body.style.direction = dir();
        body.style.textAlign = dir() === "rtl" ? "right" : "left";
      }
    }

    // sync writes the editor's email HTML and design into the form.
    function sync() {
      if (!editor) return;
      exporting = true;
      html.value = wrap(withRawHTML(editor, editor.runCommand("gjs-get-inlined-html")), dir());
      design.value = JSON.stringify(editor.getProjectData());
      fire(html);
      exporting = false;
    }

    function start() {
      var plugin = window["grapesjs-preset-newsletter"];
      plugin = plugin && plugin.default ? plugin.default : plugin;
      var opts = {
        container: "#gjs", height: "640px", width: "auto", fromElement: false,
        storageManager: false, cssIcons: "/admin/assets/vendor/font-awesome-4.7.0/css/font-awesome.min.css", telemetry: false,
        // The preset's blocks are named in the page's language (its
        // block option overrides each block's definition).
        plugins: plugin ? [function (ed) { plugin(ed, { block: blockWords }); }] : [],
        pluginsOpts: {},
      };
      var saved = design.value ? JSON.parse(design.value) : null;
      if (saved) opts.projectData = saved;
      else opts.components = bodyOf(html.value);
      opts.plugins.push(function (ed) { addRawType(ed, root); }); // before the project loads
      editor = window.grapesjs.init(opts);
      addBlocks(editor);
      editor.on("load", function () { applyDir(); root.setAttribute("data-visual-ready", "1"); });
      editor.on("update", debounceSync);
      editor.on("peykar:raw", debounceSync);
    }

    var timer = null;
    function debounceSync() {
      clearTimeout(timer);
      timer = setTimeout(sync, 400);
    }

    function setMode(mode) {
      visual = mode === "visual";
      el("mode-visual").setAttribute("aria-pressed", String(visual));
      el("mode-code").setAttribute("aria-pressed", String(!visual));
      visualBox.hidden = !visual;
      codeBox.hidden = visual;
      if (visual && !editor) start();
      else if (visual && editor && !design.value) {
        // The code was edited: reopen from it.
        editor.setComponents(bodyOf(html.value));
        editor.setStyle("");
      }
      if (!visual && editor) sync();
      root.setAttribute("data-mode", mode);
    }

    el("mode-visual").addEventListener("click", function () { setMode("visual"); });
    el("mode-code").addEventListener("click", function () { setMode("code"); });
    dirSel.addEventListener("change", function () {
      applyDir();
      if (editor) sync();
    });
    html.addEventListener("input", function () {
      if (!exporting) design.value = ""; // hand-edited: the design no longer matches
    });
    el("insert-field").addEventListener("change", function (ev) {
      var v = ev.target.value;
      if (!v) return;
      insertField(editor, visual, v);
      ev.target.value = "";
      if (visual) debounceSync();
    });
    form.addEventListener("submit", function () {
      if (visual && editor) {
        clearTimeout(timer);
        sync();
      }
    });
    // A template built visually reopens in the visual editor.
    setMode(design.value ? "visual" : "code");
    root.setAttribute("data-editor-ready", "1"); // the mode buttons work from now on
  }

  document.addEventListener("DOMContentLoaded", init);
})();

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
    var lang = dir === "rtl" ? "fa" : "en";
    var align = dir === "rtl" ? "right" : "left";
    return '<!doctype html>\n<html lang="' + lang + '" dir="' + dir + '">\n<head>\n<meta charset="utf-8">\n' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">\n</head>\n' +
      '<body dir="' + dir + '" style="margin:0;padding:0;direction:' + dir + ';text-align:' + align + '">\n' +
      body + "\n</body>\n</html>\n";
  }

  // Blocks the preset lacks: heading, spacer, social/footer and raw HTML.
  function addBlocks(editor) {
    var bm = editor.BlockManager;
    var cell = "padding:8px 24px;font-family:Tahoma,Arial,Helvetica,sans-serif";
    bm.add("heading", {
      label: "Heading", category: "Peykar",
      content: '<h1 style="margin:0;padding:16px 24px 8px;font-family:Tahoma,Arial,Helvetica,sans-serif;font-size:24px;line-height:32px;color:#111111">Heading</h1>',
    });
    bm.add("spacer", {
      label: "Spacer", category: "Peykar",
      content: '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="height:24px;font-size:0;line-height:0">&nbsp;</td></tr></table>',
    });
    bm.add("footer", {
      label: "Social / footer", category: "Peykar",
      content: '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="' + cell +
        ';font-size:12px;line-height:18px;color:#777777;text-align:center">' +
        '<a href="https://instagram.com/" style="color:#0b5cad">Instagram</a> · <a href="https://x.com/" style="color:#0b5cad">X</a> · ' +
        '<a href="https://linkedin.com/" style="color:#0b5cad">LinkedIn</a><br>Shop · 1 Market Street<br>' +
        '<a href="{{ unsubscribe_url }}" style="color:#0b5cad">Unsubscribe</a></td></tr></table>',
    });
    bm.add("raw-html", {
      label: "Raw HTML", category: "Peykar",
      content: { type: "text", tagName: "div", attributes: { "data-raw-html": "" },
        content: "Raw HTML: select this block and use the import button (&lt;/&gt;) to paste your own markup." },
    });
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
      html.value = wrap(editor.runCommand("gjs-get-inlined-html"), dir());
      design.value = JSON.stringify(editor.getProjectData());
      fire(html);
      exporting = false;
    }

    function start() {
      var plugin = window["grapesjs-preset-newsletter"];
      plugin = plugin && plugin.default ? plugin.default : plugin;
      var opts = {
        container: "#gjs", height: "640px", width: "auto", fromElement: false,
        storageManager: false, cssIcons: "", telemetry: false,
        plugins: plugin ? [plugin] : [],
        pluginsOpts: {},
      };
      var saved = design.value ? JSON.parse(design.value) : null;
      if (saved) opts.projectData = saved;
      else opts.components = bodyOf(html.value);
      editor = window.grapesjs.init(opts);
      addBlocks(editor);
      editor.on("load", function () { applyDir(); root.setAttribute("data-visual-ready", "1"); });
      editor.on("update", debounceSync);
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

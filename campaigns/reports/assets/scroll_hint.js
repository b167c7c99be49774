// Wide tables scroll inside their .table-wrap; the hint before a wrapper
// shows only while its table is wider than the wrapper (phone width).
(function () {
  "use strict";
  function update() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var hint = wrap.previousElementSibling;
      if (hint && hint.classList.contains("scroll-hint")) {
        hint.hidden = wrap.scrollWidth <= wrap.clientWidth;
      }
    });
  }
  update();
  window.addEventListener("resize", update);
  new MutationObserver(update).observe(document.body, { childList: true, subtree: true });
})();

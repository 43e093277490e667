// Behaviour of the server-rendered pages. No inline scripts or on* attributes anywhere: the
// Content-Security-Policy allows scripts from this origin only (docs/security.md).
(function () {
  // <input data-select-on-click>: one click selects the whole value (links to copy).
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-click")) {
      target.select();
    }
  });
})();

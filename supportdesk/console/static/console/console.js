// Agent console: keyboard shortcuts. "/" focuses the search box on every console page.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(document.activeElement)) return;
    if (event.key === "/") {
      var box = document.querySelector("form.search input[name=q]");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
  });
})();

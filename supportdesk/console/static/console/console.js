// Agent console: keyboard shortcuts. "/" focuses the search box on every console page.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  // The reply box's insert menu: fetch the canned reply filled in for this ticket and insert
  // it at the cursor (issue 10.4).
  document.addEventListener("change", function (event) {
    var menu = event.target;
    if (!menu.matches || !menu.matches("select[data-macro-insert]") || !menu.value) return;
    var box = document.getElementById(menu.getAttribute("aria-controls"));
    fetch(menu.value, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        var at = box.selectionStart || 0;
        box.value = box.value.slice(0, at) + text + box.value.slice(box.selectionEnd || at);
        box.focus();
        menu.value = "";
      });
  });
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

// Console reply box: "Insert link" on a knowledge-base search result puts a Markdown-style
// link to the article at the cursor (the link is made absolute against this page's origin).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-kb-insert]");
    if (!button) return;
    var box = document.getElementById(button.getAttribute("aria-controls"));
    if (!box) return;
    var url = new URL(button.getAttribute("data-kb-insert"), window.location.origin).href;
    var text = button.getAttribute("data-kb-title") + ": " + url;
    var at = box.selectionStart || 0;
    box.value = box.value.slice(0, at) + text + box.value.slice(box.selectionEnd || at);
    box.focus();
  });
})();

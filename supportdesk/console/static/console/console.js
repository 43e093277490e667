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
  // The time form's timer (issue 10.7): Start writes the start (in the vendor's zone, which
  // the server reads typed times in) and remembers it per ticket; Stop writes the end.
  function localIn(tz, when) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(when).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }
  function timerShow(form) {
    var started = localStorage.getItem("timer:" + form.dataset.timer);
    var state = form.querySelector("[data-timer-state]");
    if (state) state.textContent = started ? "Timer running since " + localIn(form.dataset.tz, new Date(+started)).slice(11) : "";
  }
  document.querySelectorAll("form[data-timer]").forEach(timerShow);
  document.addEventListener("click", function (event) {
    var button = event.target;
    if (!button.closest) return;
    var form = button.closest("form[data-timer]");
    if (!form) return;
    var key = "timer:" + form.dataset.timer;
    if (button.matches("[data-timer-start]")) {
      var now = Date.now();
      localStorage.setItem(key, String(now));
      form.elements.started_at.value = localIn(form.dataset.tz, new Date(now));
      form.elements.ended_at.value = "";
    } else if (button.matches("[data-timer-stop]")) {
      var started = localStorage.getItem(key);
      if (!started) return;
      form.elements.started_at.value = localIn(form.dataset.tz, new Date(+started));
      form.elements.ended_at.value = localIn(form.dataset.tz, new Date());
      form.elements.minutes.value = "";
      localStorage.removeItem(key);
    } else {
      return;
    }
    timerShow(form);
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

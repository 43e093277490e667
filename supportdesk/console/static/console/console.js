// Agent console: keyboard shortcuts (issue 10.9) on every console page, the reply box's
// insert menu and the time form's timer. Served as a file: the CSP allows no inline script.
//   /  search    j / k  next / previous ticket in a list (Enter opens it)
//   r  reply     n  internal note    a  assign    ?  this help
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
  var HELP = [
    ["/", "Search tickets"], ["j", "Next ticket in the list"], ["k", "Previous ticket in the list"],
    ["Enter", "Open the selected ticket"], ["r", "Reply to the customer"],
    ["n", "Write an internal note"], ["a", "Assign the ticket"], ["?", "Show these shortcuts"]
  ];
  function help() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "shortcuts";
      dialog.setAttribute("aria-label", "Keyboard shortcuts");
      var title = document.createElement("h2");
      title.textContent = "Keyboard shortcuts";
      var list = document.createElement("dl");
      HELP.forEach(function (pair) {
        var key = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.textContent = pair[0];
        key.appendChild(kbd);
        var what = document.createElement("dd");
        what.textContent = pair[1];
        list.appendChild(key);
        list.appendChild(what);
      });
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "Close";
      close.addEventListener("click", function () { dialog.close(); });
      dialog.appendChild(title);
      dialog.appendChild(list);
      dialog.appendChild(close);
      document.body.appendChild(dialog);
    }
    if (!dialog.open) dialog.showModal();
  }
  function move(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#rows tr[data-ref], li.hit"));
    if (!rows.length) return false;
    var at = rows.findIndex(function (r) { return r.classList.contains("current"); });
    var next = Math.min(Math.max(at < 0 ? 0 : at + step, 0), rows.length - 1);
    if (at >= 0) rows[at].classList.remove("current");
    rows[next].classList.add("current");
    rows[next].setAttribute("aria-current", "true");
    if (at >= 0 && at !== next) rows[at].removeAttribute("aria-current");
    rows[next].scrollIntoView({ block: "nearest" });
    return true;
  }
  function open() {
    var row = document.querySelector("#rows tr.current, li.hit.current");
    var link = row && row.querySelector("a[href]");
    if (!link) return false;
    link.click();
    return true;
  }
  function write(kind) {
    var box = document.getElementById("id_body");
    if (!box) return false;
    var which = document.getElementById("id_kind");
    if (which) which.value = kind;
    box.focus();
    return true;
  }
  function focusOn(selector) {
    var el = document.querySelector(selector);
    if (!el) return false;
    el.focus();
    return true;
  }
  var KEYS = {
    "/": function () {
      var box = document.querySelector("form.search input[name=q]");
      if (!box) return false;
      box.focus();
      box.select();
      return true;
    },
    "j": function () { return move(1); },
    "k": function () { return move(-1); },
    "Enter": function () { return document.activeElement === document.body && open(); },
    "r": function () { return write("public"); },
    "n": function () { return write("internal"); },
    "a": function () { return focusOn("form[action$='/assign/'] select[name=assignee]"); },
    "?": function () { help(); return true; }
  };
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(document.activeElement)) return;
    var act = KEYS[event.key];
    if (act && act()) event.preventDefault();
  });
})();

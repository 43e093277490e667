// Live SLA countdowns: every element with data-sla-due (an ISO instant) shows the time left
// to it, or how long it is overdue, and turns red when it passes. The server renders the
// same text, so the page reads right without this script; it only keeps it moving.
(function () {
  if (window.slaCountdown) return;
  window.slaCountdown = true;
  function short(seconds) {
    var minutes = Math.floor(seconds / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + (mins < 10 ? "0" : "") + mins + "m";
    return mins + "m";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.slaDue) - now) / 1000);
      if (left > 0) {
        el.textContent = "due in " + short(left);
      } else {
        el.textContent = "overdue " + short(-left);
        el.classList.add("sla-breached");
      }
    });
  }
  tick();
  setInterval(tick, 15000);
})();

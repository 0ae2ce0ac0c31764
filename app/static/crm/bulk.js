// Bulk job progress (issue 8.2): poll the job's JSON while it runs, then reload for the report.
(function () {
  "use strict";
  var box = document.getElementById("crm-bulk-job");
  if (!box || box.getAttribute("data-finished") === "1") { return; }
  var url = box.getAttribute("data-status-url");
  function set(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        set("crm-bulk-done", p.done); set("crm-bulk-skipped", p.skipped); set("crm-bulk-failed", p.failed);
        var bar = document.getElementById("crm-bulk-bar");
        if (bar) { bar.style.width = p.percent + "%"; bar.textContent = p.percent + "%"; }
        if (p.finished) { window.location.reload(); } else { window.setTimeout(poll, 1500); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();

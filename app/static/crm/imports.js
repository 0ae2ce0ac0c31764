/* Import result page: while the run is running, poll its progress and reload when it ends. */
(function () {
  "use strict";
  var box = document.getElementById("crm-import-result");
  if (!box || box.getAttribute("data-status") !== "running") { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("crm-import-progress-bar");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (bar) {
          bar.style.width = p.percent + "%";
          bar.setAttribute("aria-valuenow", p.percent);
          bar.textContent = p.percent + "%";
        }
        if (p.status === "running") { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());

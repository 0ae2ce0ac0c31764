/* Renders every <div class="crm-chart" data-option="ID"> with the ECharts option stored as JSON in
 * <script type="application/json" id="ID">. Pages ship data, not code: no inline script, so the
 * Content-Security-Policy can forbid inline scripts. Served with the vendored ECharts (Apache-2.0). */
(function () {
  "use strict";
  function render() {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("div.crm-chart[data-option]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-option"));
      if (!src) { return; }
      var option;
      try { option = JSON.parse(src.textContent); } catch (e) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.setAttribute("data-rendered", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();

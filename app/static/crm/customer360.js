// Customer 360: usage chart (ECharts, served locally) and the audited reveal action.
(function () {
  "use strict";
  var dataNode = document.getElementById("crm-usage-data");
  var chartNode = document.getElementById("crm-usage-chart");
  if (dataNode && chartNode && window.echarts) {
    var d = JSON.parse(dataNode.textContent);
    var chart = window.echarts.init(chartNode);
    chart.setOption({
      tooltip: { trigger: "axis" },
      // Legend under the axis, clear of the month labels (ECharts 6 puts it at the bottom by default).
      legend: { data: [d.labels.voice, d.labels.sms, d.labels.data], bottom: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: 56 },
      xAxis: { type: "category", data: d.months },
      yAxis: [{ type: "value", name: d.labels.voice }, { type: "value", name: d.labels.data, position: "right" }],
      series: [
        { name: d.labels.voice, type: "line", smooth: true, data: d.voice },
        { name: d.labels.sms, type: "line", smooth: true, data: d.sms },
        { name: d.labels.data, type: "line", smooth: true, yAxisIndex: 1, data: d.data }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var reveal = document.getElementById("crm-reveal");
  if (reveal) {
    reveal.addEventListener("click", function () {
      var headers = { "X-Requested-With": "XMLHttpRequest" };
      if (reveal.dataset.csrf) { headers["X-CSRFToken"] = reveal.dataset.csrf; }
      fetch(reveal.dataset.url, { method: "POST", headers: headers, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (!res.ok) { window.alert(res.body.message || "Error"); return; }
          document.querySelectorAll(".crm-pii").forEach(function (node) {
            var value = res.body.result[node.dataset.field];
            if (value) { node.textContent = value; node.classList.add("crm-revealed"); }
          });
          reveal.disabled = true;
        });
    });
  }
})();

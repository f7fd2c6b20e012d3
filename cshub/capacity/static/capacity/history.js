// A provider's capacity history (rule D3): the numbers come from the page (json_script); the table holds the same.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("capacity-history-chart");
  var data = document.getElementById("capacity-history-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  var chart = JSON.parse(data.textContent);
  var colors = ["#0b5394", "#b45f06", "#38761d", "#741b47", "#45818e", "#7f6000"];
  new Chart(canvas, {
    type: "line",
    data: {
      labels: chart.labels,
      datasets: chart.datasets.map(function (d, i) {
        return {
          label: d.label,
          data: d.data,
          yAxisID: d.yAxisID || "y",
          borderColor: colors[i % colors.length],
          backgroundColor: colors[i % colors.length],
          spanGaps: true,
        };
      }),
    },
    options: {
      scales: {
        y: { min: 0, title: { display: true, text: "Members" } },
        fte: { min: 0, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "Staff FTE" } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
});

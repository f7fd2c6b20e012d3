// Report charts (rules D6, D7): each <canvas data-chart="key"> draws charts[key] from the page's json_script
// "report-charts"; the table beside every chart holds the same numbers for screen readers and printing.
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("report-charts");
  if (!data || typeof Chart === "undefined") return;
  var charts = JSON.parse(data.textContent);
  var colors = ["#0b5394", "#b45f06", "#38761d", "#741b47", "#45818e", "#7f6000", "#3d85c6", "#a61c00", "#666666"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var chart = charts[canvas.dataset.chart];
    if (!chart) return;
    var line = chart.type === "line";
    new Chart(canvas, {
      type: chart.type,
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map(function (d, i) {
          var color = colors[i % colors.length];
          return { label: d.label, data: d.data, backgroundColor: color, borderColor: color, spanGaps: line, fill: false };
        }),
      },
      options: {
        animation: false,
        scales: {
          x: { stacked: !!chart.stacked },
          // counts are whole numbers; a chart of medians (decimals: true) keeps Chart.js's own ticks
          y: { stacked: !!chart.stacked, beginAtZero: true, ticks: chart.decimals ? {} : { precision: 0 } },
        },
        plugins: { legend: { position: "bottom", display: chart.datasets.length > 1 } },
      },
    });
  });
});

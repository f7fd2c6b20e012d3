// Claim totals (rules C1, C5): charged vs paid per group. The numbers come from the page (json_script); the
// table below the chart holds the same.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("totals-chart");
  var data = document.getElementById("totals-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  var chart = JSON.parse(data.textContent);
  var colors = ["#0b5394", "#38761d"];
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: chart.datasets.map(function (d, i) {
        return { label: d.label, data: d.data, backgroundColor: colors[i % colors.length] };
      }),
    },
    options: {
      scales: { y: { min: 0, title: { display: true, text: "Dollars" } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
});

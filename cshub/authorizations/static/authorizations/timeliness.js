// The timeliness chart (rule A8): the numbers come from the page (json_script); the table holds the same.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("timeliness-chart");
  var data = document.getElementById("timeliness-data");
  if (!canvas || !data || typeof Chart === "undefined") return;
  var chart = JSON.parse(data.textContent);
  var colors = ["#0b5394", "#b45f06", "#38761d", "#741b47"];
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: chart.datasets.map(function (d, i) {
        return { label: d.label, data: d.data, backgroundColor: colors[i % colors.length] };
      }),
    },
    options: {
      scales: { y: { min: 0, max: 100, title: { display: true, text: "% decided on time" } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
});

// Grille PIN — draws the dashboards' charts. Each figure is JSON in the page (no inline script:
// the Content-Security-Policy stays `script-src 'self'`), drawn by the plotly.js the app serves.
// The summary and the table under each chart carry the same data without this script.
(function () {
  "use strict";
  if (!window.Plotly) { return; }
  var charts = Array.prototype.slice.call(document.querySelectorAll(".chart[data-figure]"));
  var PRINT_WIDTH = 680;  // about an A4 page's width between 1.5 cm margins, in CSS pixels

  charts.forEach(function (chart) {
    var source = document.getElementById(chart.dataset.figure);
    if (!source) { return; }
    var figure = JSON.parse(source.textContent);
    var config = {
      locale: chart.dataset.locale === "en" ? "en" : "fr",  // static/plotly-locale-fr.js: « 75,0 »
      displayModeBar: false,  // its buttons carry no accessible names; the table below has the data
      responsive: true
    };
    Plotly.newPlot(chart, figure.data, figure.layout, config).then(function () {
      chart.classList.add("drawn");
    });
  });

  // On paper: every table open, and each chart as wide as the page.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-data:not([open])").forEach(function (details) {
      details.open = true;
      opened.push(details);
    });
    charts.forEach(function (chart) { Plotly.relayout(chart, {width: PRINT_WIDTH}); });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
    charts.forEach(function (chart) {
      Plotly.relayout(chart, {width: null}).then(function () { Plotly.Plots.resize(chart); });
    });
  });
})();

/* Charts of the monthly review. The data comes from the page's json_script block, so no
   inline script is needed and a strict Content-Security-Policy holds. */
(function () {
  "use strict";

  // Django's JavaScript catalog (/jsi18n/, loaded before this file) translates every label.
  var gettext = window.gettext || function (text) { return text; };

  var COLORS = {
    blue: "#0d6efd", purple: "#6f42c1", teal: "#20c997", orange: "#fd7e14",
    red: "#dc3545", green: "#198754", grey: "#6c757d", dark: "#212529"
  };

  // An empty month still gets a chart object (so the page is the same for every month), but
  // with a sentence instead of a blank grid.
  var emptyMessage = {
    id: "emptyMessage",
    afterDraw: function (chart) {
      // A plan or a target alone is no data: the month still did nothing.
      var hasData = chart.data.datasets.some(function (set) {
        return !set.reference &&
          set.data.some(function (value) { return value !== null && value !== 0; });
      });
      if (hasData) { return; }
      var ctx = chart.ctx, area = chart.chartArea;
      ctx.save();
      ctx.fillStyle = COLORS.grey;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = "14px system-ui, sans-serif";
      ctx.fillText(gettext("No data for this month"), (area.left + area.right) / 2,
                   (area.top + area.bottom) / 2);
      ctx.restore();
    }
  };

  // Colour is never the only difference between two series (WCAG 1.4.1): the second series
  // of a bar chart is striped, lines differ in dash and point shape, and the legends show
  // those shapes. Each chart also has its summary and data table in the page.
  function stripes(color) {
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(0, 8); ctx.lineTo(8, 0);
    ctx.moveTo(-2, 2); ctx.lineTo(2, -2);
    ctx.moveTo(6, 10); ctx.lineTo(10, 6);
    ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  if (typeof Chart !== "undefined") {
    Chart.defaults.plugins.legend.labels.usePointStyle = true;
    // Numbers on axes and tooltips in the page's language: 1.234 in Portuguese.
    Chart.defaults.locale = document.documentElement.lang || "en";
  }

  function readData() {
    var node = document.getElementById("review-chart-data");
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (error) { return null; }
  }

  function list(value) { return Array.isArray(value) ? value : []; }

  function openLink(links) {
    return function (event, elements) {
      if (elements.length && links[elements[0].index]) {
        window.location.href = links[elements[0].index];
      }
    };
  }

  function pointer(links) {
    return function (event, elements) {
      var target = event.native && event.native.target;
      if (target) { target.style.cursor = elements.length && links.length ? "pointer" : ""; }
    };
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    config.options = Object.assign({
      responsive: true, maintainAspectRatio: false, animation: false
    }, config.options || {});
    config.plugins = (config.plugins || []).concat([emptyMessage]);
    return new Chart(canvas, config);
  }

  // A plan or a target drawn beside the actuals: dashed, dark, no fill.
  function reference(label, values, axis) {
    return { type: "line", label: label, data: values, yAxisID: axis, reference: true,
             borderColor: COLORS.dark, backgroundColor: COLORS.dark, borderDash: [4, 4],
             borderWidth: 2, pointRadius: 3, pointStyle: "rectRot", fill: false, spanGaps: true };
  }

  // A constant (a monthly plan, a KPI target) as a flat line across every label.
  function flat(value, labels) {
    return list(labels).map(function () { return value; });
  }

  function hasValue(value) { return value !== null && value !== undefined; }

  function funnel(data) {
    var links = list(data.links);
    var datasets = [{ label: gettext("Actual"), data: list(data.counts),
                      backgroundColor: [COLORS.blue, COLORS.purple, COLORS.teal, COLORS.orange,
                                        COLORS.green] }];
    var plan = list(data.plan);
    if (plan.some(hasValue)) {
      datasets.push(reference(gettext("Plan for a month"), plan, "y"));
    }
    return draw("funnel-chart", {
      type: "bar",
      data: { labels: list(data.labels), datasets: datasets },
      options: {
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        onClick: openLink(links), onHover: pointer(links)
      }
    });
  }

  function trends(data) {
    function line(label, values, color, axis) {
      return { label: label, data: list(values), borderColor: color, backgroundColor: color,
               yAxisID: axis, tension: 0.2, spanGaps: true };
    }
    return draw("trends-chart", {
      type: "line",
      data: {
        labels: list(data.labels),
        datasets: [
          Object.assign(line(gettext("Leads"), data.leads, COLORS.blue, "y"), { pointStyle: "circle" }),
          Object.assign(line(gettext("MQLs"), data.mqls, COLORS.purple, "y"),
                        { pointStyle: "triangle", pointRadius: 4, borderDash: [2, 2] }),
          Object.assign(line(gettext("SQLs"), data.sqls, COLORS.teal, "y"),
                        { pointStyle: "rect", pointRadius: 4, borderDash: [8, 3] }),
          Object.assign(line(gettext("SLA compliance %"), data.compliance, COLORS.orange, "percent"),
                        { borderDash: [6, 4], pointStyle: "crossRot", pointRadius: 5 })
        ].concat(
          hasValue(data.mql_plan)
            ? [reference(gettext("MQL plan a month"), flat(data.mql_plan, data.labels), "y")] : [],
          hasValue(data.compliance_target)
            ? [Object.assign(reference(gettext("Compliance target %"),
                                       flat(data.compliance_target, data.labels), "percent"),
                             { borderColor: COLORS.orange, backgroundColor: COLORS.orange,
                               pointRadius: 0 })] : []
        )
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: gettext("Leads") } },
          percent: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                     title: { display: true, text: gettext("Compliance %") } }
        }
      }
    });
  }

  function reps(data, targets) {
    var links = list(data.links);
    return draw("reps-chart", {
      type: "bar",
      data: {
        labels: list(data.labels),
        datasets: [
          { label: gettext("SLA compliance %"), data: list(data.compliance), backgroundColor: COLORS.blue,
            pointStyle: "rect",
            yAxisID: "percent" },
          { label: gettext("Breaches"), data: list(data.breaches), backgroundColor: stripes(COLORS.red),
            borderColor: COLORS.red, borderWidth: 1, yAxisID: "count", pointStyle: "triangle" }
        ].concat(hasValue(targets.compliance) && list(data.labels).length
          ? [Object.assign(reference(gettext("Compliance target %"),
                                     flat(targets.compliance, data.labels), "percent"),
                           { pointRadius: 0 })] : [])
      },
      options: {
        scales: {
          percent: { position: "left", min: 0, max: 100,
                     title: { display: true, text: gettext("Compliance %") } },
          count: { position: "right", beginAtZero: true, ticks: { precision: 0 },
                   grid: { drawOnChartArea: false }, title: { display: true, text: gettext("Breaches") } }
        },
        onClick: openLink(links), onHover: pointer(links)
      }
    });
  }

  function reasons(data) {
    return draw("reasons-chart", {
      type: "bar",
      data: {
        labels: list(data.labels),
        datasets: [
          { label: gettext("Rejected"), data: list(data.rejected), backgroundColor: COLORS.red,
            pointStyle: "rect" },
          { label: gettext("Returned"), data: list(data.returned), backgroundColor: stripes(COLORS.orange),
            borderColor: COLORS.orange, borderWidth: 1, pointStyle: "triangle" }
        ]
      },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
                  y: { stacked: true } }
      }
    });
  }

  function start() {
    var data = readData();
    if (!data || typeof Chart === "undefined") { return; }
    var charts = [
      funnel(data.funnel || {}), trends(data.trends || {}), reps(data.reps || {}, data.targets || {}),
      reasons(data.reasons || {})
    ].filter(Boolean);
    // Paper is narrower than the screen: redraw at the printed size, then back.
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
    window.addEventListener("afterprint", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
    document.querySelectorAll("[data-review-print]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* Reports: draws the dashboard's time-series charts with uPlot (vendor/uplot, no network, no eval, styles only
 * through its stylesheet and the CSS object model, so a strict Content-Security-Policy holds).
 *
 * The specs come from <script type="application/json" id="report-charts"> (Django's json_script): for each chart
 * {id, title, unit: "count"|"hours"|"percent", kind: "bars"|"lines", labels: [bucket label], series: [{key,
 * label, values}]}. Each is drawn into [data-chart="<id>"]; the table beneath it has the same figures. Colours
 * come from the CSS custom properties --chart-1 … --chart-3, so the stylesheet decides them.
 * window.AtendeCharts[id] is the uPlot instance (tests read what was drawn from it). */
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || typeof window.uPlot === "undefined") return;
  var specs = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || "en";
  var charts = (window.AtendeCharts = {});
  var style = getComputedStyle(document.documentElement);
  var colours = [1, 2, 3].map(function (i) { return style.getPropertyValue("--chart-" + i).trim() || "#1f6feb"; });
  var HEIGHT = 220;
  var WHOLE_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

  // A figure as the table beneath shows it (hours with one decimal); axis ticks drop a needless ",0".
  function format(unit, value, tick) {
    if (value === null || value === undefined) return "—";
    var digits = unit === "hours" ? 1 : 0;
    var text = Number(value).toLocaleString(lang, { minimumFractionDigits: tick ? 0 : digits, maximumFractionDigits: digits });
    return unit === "percent" ? text + "%" : text;
  }

  // At most about one label per 70 px of width, always on whole buckets.
  function splits(count) {
    return function (u) {
      var step = Math.max(1, Math.ceil(count / Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 70))));
      var out = [];
      for (var i = 0; i < count; i += step) out.push(i);
      return out;
    };
  }

  function options(spec, width) {
    var count = spec.labels.length;
    var bars = spec.kind === "bars";
    var many = spec.series.length;
    var series = [{ label: spec.bucket, value: function (u, i) { return i === null ? "—" : spec.labels[i]; } }];
    spec.series.forEach(function (s, n) {
      var colour = colours[n % colours.length];
      var entry = {
        label: s.label, stroke: colour, width: 2, spanGaps: false,
        value: function (u, v) { return format(spec.unit, v); },
        points: { show: !bars, size: 5, fill: colour }
      };
      if (bars) {
        entry.fill = colour;
        entry.paths = window.uPlot.paths.bars({ size: [0.8 / many, 40], align: many > 1 ? (n === 0 ? -1 : 1) : 0 });
      }
      series.push(entry);
    });
    var y = { auto: true };
    if (spec.unit === "percent") y = { auto: false, range: [0, 100] };
    else y = { auto: true, range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } };
    return {
      width: width, height: HEIGHT, series: series,
      scales: { x: { time: false, range: [-0.5, count - 0.5] }, y: y },
      axes: [
        { splits: splits(count), values: function (u, ticks) { return ticks.map(function (i) { return spec.labels[i] || ""; }); } },
        { values: function (u, ticks) { return ticks.map(function (v) { return format(spec.unit, v, true); }); }, size: 56,
          incrs: spec.unit === "hours" ? undefined : WHOLE_STEPS }
      ],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true }
    };
  }

  specs.forEach(function (spec) {
    var target = document.querySelector('[data-chart="' + spec.id + '"]');
    if (!target) return;
    var x = spec.labels.map(function (_, i) { return i; });
    var data = [x].concat(spec.series.map(function (s) { return s.values; }));
    var chart = new window.uPlot(options(spec, target.clientWidth || 600), data, target);
    charts[spec.id] = chart;
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (target.clientWidth && target.clientWidth !== chart.width) chart.setSize({ width: target.clientWidth, height: HEIGHT });
      }).observe(target);
    }
  });
  document.body.dataset.charts = "drawn";
})();

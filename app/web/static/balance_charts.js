// The balance dashboard's charts and reach classes: Chart.js 4 (loaded the first time the
// dashboard opens) draws supply against remaining demand, the year-by-year phasing and the
// reach per area; the reach classes colour the chart, the map's districts and the legend.

import { getConfig } from "./api.js";
import { getMap } from "./map.js";
import { decimal, label, terms } from "./ui.js";

/** Classes of reach, in the legend's order: a district whose supply covers the remaining
 * demand ("covers") and, for the others, the years the supply lasts. Colours: ColorBrewer
 * RdBu (colour-blind safe), red = short reach. */
export const REACH_CLASSES = [
  { key: "lt5", colour: "#b2182b", text: "unter 5 Jahren" },
  { key: "5_10", colour: "#ef8a62", text: "5 bis unter 10 Jahre" },
  { key: "10_15", colour: "#fddbc7", text: "10 bis unter 15 Jahre" },
  { key: "ge15", colour: "#d1e5f0", text: "15 Jahre und mehr, reicht aber nicht" },
  { key: "covers", colour: "#4393c3", text: "reicht bis {last}" },
  { key: "none", colour: "#bdbdbd", text: "ohne Angabe (kein Bedarf)" },
];
/** Reach chart: bars end here (longer reaches are written in the tooltip and the table). */
const REACH_CAP_YEARS = 30;

/** The reach class of an area's scenario result ({reach_years, shortfall}). */
export function reachClass(result) {
  if (!result || result.reach_years === null || result.reach_years === undefined) return "none";
  if (!result.shortfall) return "covers";
  const years = result.reach_years;
  return years < 5 ? "lt5" : years < 10 ? "5_10" : years < 15 ? "10_15" : "ge15";
}

export function reachColour(key) {
  return REACH_CLASSES.find((c) => c.key === key).colour;
}

/** The legend text of a class ({last}: the framework's last year). */
export function reachText(key, lastYear) {
  return REACH_CLASSES.find((c) => c.key === key).text.replace("{last}", String(lastYear));
}

/** Short names of scenarios for the axes ("Trend 2016–2025", "GIFPRO"). */
export function shortScenario(scenario) {
  const p = scenario.parameters || {};
  if (scenario.kind === "trend" && p.first_year) return `Trend ${p.first_year}–${p.last_year}`;
  if (scenario.kind === "gifpro") return "GIFPRO";
  return scenario.label;
}

let chartLoading = null;

/** An error whose message is German (showError shows `messageDe`). */
export function germanError(message) {
  return Object.assign(new Error(message), { messageDe: message });
}

/** Chart.js (window.Chart), loaded once from the service's vendor folder by a <script>. */
export function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLoading) {
    chartLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `${getConfig().base}/karte/vendor/chart.js/chart.umd.min.js`;
      script.async = true;
      script.addEventListener("load", () => (window.Chart ? resolve(window.Chart)
        : reject(germanError("Chart.js wurde geladen, meldet sich aber nicht (window.Chart fehlt)."))));
      script.addEventListener("error", () => {
        script.remove();
        chartLoading = null;  // the next opening tries again
        reject(germanError("Die Diagrammbibliothek (Chart.js) konnte nicht geladen werden."));
      });
      document.head.append(script);
    });
  }
  return chartLoading;
}

const charts = {};

function draw(canvas, config) {
  const Chart = window.Chart;
  if (charts[canvas.id]) charts[canvas.id].destroy();
  Chart.defaults.font.family = 'system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif';
  Chart.defaults.color = "#1c1c1c";
  charts[canvas.id] = new Chart(canvas, {
    ...config,
    options: {
      locale: "de-DE", animation: false, responsive: true, maintainAspectRatio: false,
      ...config.options,
      plugins: { legend: { labels: { boxWidth: 12, font: { size: 11 } } }, ...config.options.plugins },
    },
  });
}

const haTick = (value) => decimal(value, 0);
const haTooltip = (ctx) => `${ctx.dataset.label}: ${decimal(ctx.parsed.x ?? ctx.parsed.y, 1)} ha`;

/** Supply by availability class (all surveyed land), the market supply the balance counts,
 * and the remaining demand of every scenario (the chosen one darker). */
export function drawSupplyChart(canvas, { area, scenarios, chosen, supplyNet }) {
  const n = 2 + scenarios.length;
  const at = (i, value) => Array.from({ length: n }, (_, j) => (j === i ? value : null));
  const colours = Object.fromEntries(legendColours().map((e) => [e.code, e.colour]));
  const classes = terms("availability").map((t) => t.code)
    .filter((code) => code in area.supply.by_availability);
  const datasets = classes.map((code) => ({
    label: label("availability", code), data: at(0, area.supply.by_availability[code]),
    backgroundColor: colours[code] || "#9e9e9e", borderColor: "#555", borderWidth: 1,
  }));
  datasets.push({ label: "Marktangebot (Grundlage der Bilanz)", data: at(1, supplyNet),
    backgroundColor: "#0d47a1" });
  datasets.push({
    label: "Restbedarf",
    data: [null, null, ...scenarios.map((s) => area.scenarios[s.key].demand_remaining_net_ha)],
    backgroundColor: [null, null, ...scenarios.map((s) => (s.key === chosen ? "#424242" : "#bdbdbd"))],
    borderColor: "#424242", borderWidth: 1,
  });
  draw(canvas, {
    type: "bar",
    data: { labels: [["Angebot", "gesamt"], ["Markt-", "angebot"],
      ...scenarios.map((s) => ["Restbedarf", shortScenario(s)])], datasets },
    options: {
      indexAxis: "y",
      scales: { x: { stacked: true, title: { display: true, text: "ha netto" }, ticks: { callback: haTick } },
        y: { stacked: true, ticks: { autoSkip: false, font: { size: 11 } } } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } },
        tooltip: { callbacks: { label: haTooltip } } },
    },
  });
}

/** Cumulative supply (as it becomes available) against cumulative demand, year by year;
 * the first shortfall year marked. */
export function drawPhasedChart(canvas, { result }) {
  const rows = result.phased || [];
  const first = result.first_shortfall_year;
  draw(canvas, {
    type: "line",
    data: {
      labels: rows.map((r) => String(r.year)),
      datasets: [
        { label: "Angebot, kumuliert verfügbar", data: rows.map((r) => r.supply_cum_net_ha),
          borderColor: "#0d47a1", backgroundColor: "#0d47a1", stepped: true, pointRadius: 0, borderWidth: 2 },
        { label: "Bedarf, kumuliert", data: rows.map((r) => r.demand_cum_net_ha),
          borderColor: "#424242", backgroundColor: "#ffffff", borderDash: [5, 3], borderWidth: 2,
          pointRadius: rows.map((r) => (r.year === first ? 6 : 0)),
          pointBackgroundColor: "#b2182b", pointBorderColor: "#b2182b" },
      ],
    },
    options: {
      scales: { y: { beginAtZero: true, title: { display: true, text: "ha netto" }, ticks: { callback: haTick } },
        x: { ticks: { maxRotation: 0, autoSkipPadding: 6, font: { size: 11 } } } },
      plugins: { tooltip: { mode: "index", intersect: false, callbacks: { label: haTooltip } } },
    },
  });
}

/** Reach in years per area for the chosen scenario, coloured by reach class. */
export function drawReachChart(canvas, { areas, chosen, selected }) {
  const reach = areas.map((a) => a.scenarios[chosen].reach_years);
  draw(canvas, {
    type: "bar",
    data: {
      labels: areas.map((a) => (a.level === "region" ? "Region" : a.name)),
      datasets: [{
        label: "Reichweite (Jahre)",
        data: reach.map((y) => (y === null ? null : Math.min(y, REACH_CAP_YEARS))),
        backgroundColor: areas.map((a) => reachColour(reachClass(a.scenarios[chosen]))),
        borderColor: areas.map((a) => ((a.ags || "") === selected ? "#000000" : "#555555")),
        borderWidth: areas.map((a) => ((a.ags || "") === selected ? 3 : 1)),
      }],
    },
    options: {
      indexAxis: "y",
      scales: {
        x: { min: 0, max: REACH_CAP_YEARS, title: { display: true, text: "Jahre" },
          ticks: { callback: (v) => (v >= REACH_CAP_YEARS ? `≥ ${REACH_CAP_YEARS}` : decimal(v, 0)) } },
        y: { ticks: { autoSkip: false, font: { size: 11 } } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => `Reichweite: ${decimal(reach[ctx.dataIndex], 1)} Jahre` } },
      },
    },
  });
}

/** The map style's availability colours (the same as the parcels on the map). */
function legendColours() {
  const map = getMap();
  const meta = map && map.getStyle().metadata;
  return (meta && meta["gefis:legend"] && meta["gefis:legend"].availability) || [];
}

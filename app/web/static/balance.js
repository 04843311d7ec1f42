// The balance dashboard (#panel-balance, tab "Bilanz"): supply against the demand framework
// per district and for the region (GET /api/v1/balance for the page's day `at`), as charts,
// a table with the same figures and a choropleth of the reach on the map while it is open.

import { getConfig, request } from "./api.js";
import { onPrincipalChange } from "./auth.js";
import {
  REACH_CLASSES, drawPhasedChart, drawReachChart, drawSupplyChart, germanError, loadChartJs,
  reachClass, reachColour, reachText, shortScenario,
} from "./balance_charts.js";
import { setDistrictFill } from "./map.js";
import { getState, onStateChange } from "./state.js";
import { dateDe, el, ha, label, showError, terms } from "./ui.js";

/** "1.625,1": one decimal, as ha() writes areas ("–" for none); for table cells under a unit. */
function number(value) {
  return value === null || value === undefined ? "–" : ha(value).replace(/\s*ha$/, "");
}

/** "12,1 Jahre". */
function years(value) {
  return value === null || value === undefined ? "–" : `${number(value)} Jahre`;
}

let data = null;          // the last answer of GET /balance
let stale = true;         // the answer no longer fits the page (day, edits, sign-in)
let open = false;         // the tab is shown
let controller = null;    // the request under way
let renderToken = 0;      // the latest rendering (charts drawn late check it)
const chosen = { area: "", scenario: null };  // area "" = the region
const parts = {};

/** Build the panel and follow the page state (called once, after the map is ready). */
export function initBalance() {
  buildPanel();
  onStateChange((state, changed) => {
    const dataChanged = changed.includes("at") || changed.includes("refresh");
    if (dataChanged) stale = true;
    if (changed.includes("tab")) open = state.tab === "balance";
    if (changed.includes("tab") || (open && dataChanged)) update(state);
  });
  onPrincipalChange(() => {  // signed-in users may see more land
    stale = true;
    if (open) update(getState());
  });
  open = getState().tab === "balance";
  if (open) update(getState());
}

function update(state) {
  if (!open) {
    setDistrictFill(null);
    return;
  }
  if (stale) load(state);
  else showChoropleth();
}

function buildPanel() {
  const panel = document.getElementById("panel-balance");
  const config = getConfig();
  parts.stand = el("p", { class: "balance-stand", "aria-live": "polite" });
  parts.error = el("div", { class: "balance-error error", role: "alert" });
  parts.area = el("select", { id: "balance-area", disabled: true, onchange: (e) => choose({ area: e.target.value }) });
  parts.scenario = el("select", { id: "balance-scenario", disabled: true,
    onchange: (e) => choose({ scenario: e.target.value }) });
  parts.body = el("div", { class: "balance-body" });
  panel.replaceChildren(
    el("h2", { class: "balance-title" }, "Flächenbilanz"),
    parts.stand,
    config.synthetic ? el("p", { class: "balance-synthetic", role: "note" },
      el("strong", {}, "Synthetische Demodaten: "), "Angebot und Verkäufe (Trend-Szenario) sind erfunden; ",
      "Bedarf des Orientierungsrahmens und Beschäftigte (GIFPRO) stammen aus der Potenzialstudie IRMD.") : null,
    parts.error,
    el("div", { class: "balance-controls" },
      el("div", { class: "field" }, el("label", { for: "balance-area" }, "Gebiet"), parts.area),
      el("div", { class: "field" }, el("label", { for: "balance-scenario" }, "Szenario"), parts.scenario)),
    parts.body,
  );
  panel.dataset.balanceState = "idle";
  // Printed, the folded tables are shown too.
  window.addEventListener("beforeprint", () => {
    for (const details of panel.querySelectorAll(".balance-details")) details.open = true;
  });
}

async function load(state) {
  const panel = document.getElementById("panel-balance");
  if (controller) controller.abort();
  const mine = new AbortController();
  controller = mine;
  stale = false;
  panel.dataset.balanceState = "loading";
  parts.body.setAttribute("aria-busy", "true");
  parts.stand.textContent = `Bilanz für ${state.at ? dateDe(state.at) : "heute"} wird geladen …`;
  const params = new URLSearchParams();
  if (state.at) params.set("at", state.at);
  try {
    const { data: body } = await request("balance", { params, signal: mine.signal });
    if (state.at && body.at !== state.at) {
      throw germanError(`Der Dienst lieferte die Bilanz zum ${dateDe(body.at)} statt zum ${dateDe(state.at)}.`);
    }
    data = body;
    setError("");
    render();
    panel.dataset.balanceAt = body.at;
    panel.dataset.balanceState = "ready";
  } catch (error) {
    if (error.name === "AbortError") return;
    stale = true;  // the next opening or change tries again
    data = null;
    renderToken += 1;
    setDistrictFill(null);
    parts.body.replaceChildren();
    parts.area.disabled = true;
    parts.scenario.disabled = true;
    parts.stand.textContent = `Stand: ${state.at ? dateDe(state.at) : "heute"}`;
    setError(`Die Flächenbilanz konnte nicht geladen werden. ${error.messageDe || error.message || error}`);
    showError(error);
    panel.dataset.balanceState = "error";
    delete panel.dataset.balanceAt;
  } finally {
    if (controller === mine) {
      controller = null;
      parts.body.removeAttribute("aria-busy");
    }
  }
}

function setError(message) {
  parts.error.textContent = message;
}

function choose(patch) {
  Object.assign(chosen, patch);
  if (data) render();
}

function render() {
  const { areas, scenarios, framework } = data;
  if (!areas.some((a) => (a.ags || "") === chosen.area)) chosen.area = "";
  if (!scenarios.some((s) => s.key === chosen.scenario)) chosen.scenario = scenarios[0].key;
  parts.area.replaceChildren(...areas.map((a) => el("option", { value: a.ags || "" }, a.name)));
  parts.scenario.replaceChildren(...scenarios.map((s) => el("option", { value: s.key }, s.label)));
  parts.area.value = chosen.area;
  parts.scenario.value = chosen.scenario;
  parts.area.disabled = false;
  parts.scenario.disabled = false;
  const today = !getState().at;
  parts.stand.textContent = `Stand: ${today ? `heute (${dateDe(data.at)})` : dateDe(data.at)} · Bedarf: ` +
    `${framework.name}, ${framework.period.first_year}–${framework.period.last_year}`;

  const area = areas.find((a) => (a.ags || "") === chosen.area);
  const scenario = scenarios.find((s) => s.key === chosen.scenario);
  const result = area.scenarios[scenario.key];
  const last = framework.period.last_year;
  parts.body.replaceChildren(
    summary(area, scenario, result, last),
    legend(scenario, last),
    chartBox("balance-chart-supply", `Angebot und Restbedarf – ${area.name}`,
      "Angebot nach zeitlicher Verfügbarkeit, Marktangebot und Restbedarf je Szenario", 340),
    chartBox("balance-chart-phased", `Zeitliche Staffelung – ${area.name}, ${shortScenario(scenario)}`,
      `Kumuliertes Angebot und kumulierter Bedarf je Jahr; ${shortfallText(result, last)}`, 200,
      `Reichweite ${years(result.reach_years)}; ${shortfallText(result, last)}.`),
    chartBox("balance-chart-reach", `Reichweite je Gebiet – ${shortScenario(scenario)}`,
      "Reichweite des Marktangebots in Jahren je Kreis und für die Region", 260),
    areaTable(scenario, last),
    supplyTable(area, scenarios),
    phasedTable(area, result),
    notes(),
  );
  showChoropleth();
  renderToken += 1;
  drawCharts(renderToken, { area, scenario, result });
}

/** The supply the balance counts: without the potential categories unless asked. */
function supplyNet(area) {
  return data.supply_scope === "all" ? area.supply.net_ha : area.supply.market_net_ha;
}

function shortfallText(result, last) {
  return result.first_shortfall_year ? `erster Fehlbedarf ${result.first_shortfall_year}`
    : `kein Fehlbedarf bis ${last}`;
}

function summary(area, scenario, result, last) {
  const supply = supplyNet(area);
  const balance = result.balance_net_ha;
  return el("p", { class: "balance-summary" },
    el("strong", {}, `${area.name}, ${scenario.label}: `),
    `Das Marktangebot von ${ha(supply)} `,
    balance >= 0 ? `deckt den Restbedarf von ${ha(result.demand_remaining_net_ha)} (Überschuss ${ha(balance)}). `
      : `deckt den Restbedarf von ${ha(result.demand_remaining_net_ha)} nicht (Fehlbedarf ${ha(-balance)}). `,
    result.reach_years === null ? "Ohne Bedarf keine Reichweite. "
      : `Es reicht ${years(result.reach_years)}; ${shortfallText(result, last)}.`);
}

function legend(scenario, last) {
  const districts = data.areas.filter((a) => a.level === "district");
  const counts = {};
  for (const a of districts) {
    const key = reachClass(a.scenarios[scenario.key]);
    counts[key] = (counts[key] || 0) + 1;
  }
  const shown = REACH_CLASSES.filter((c) => c.key !== "none" || counts.none);
  return el("section", { class: "balance-legend", "aria-labelledby": "balance-legend-title" },
    el("h3", { id: "balance-legend-title" }, `Karte: Reichweite des Marktangebots (${shortScenario(scenario)})`),
    el("ul", {}, shown.map((c) => el("li", { "data-reach-class": c.key, "data-colour": c.colour },
      el("span", { class: "balance-swatch", style: `background:color-mix(in srgb, ${c.colour} 55%, #fff)`,
        "aria-hidden": "true" }),
      `${reachText(c.key, last)}: ${counts[c.key] || 0} ${(counts[c.key] || 0) === 1 ? "Kreis" : "Kreise"}`))));
}

function chartBox(id, title, description, height, note) {
  const text = `${description}. Die Zahlen stehen in den Tabellen unten.`;
  return el("figure", { class: "balance-chart" },
    el("figcaption", {}, title),
    el("div", { class: "balance-canvas", style: `height:${height}px` },
      el("canvas", { id, role: "img", "aria-label": text }, text)),
    note ? el("p", { class: "balance-chart-note", "data-chart-note": id }, note) : null);
}

function areaTable(scenario, last) {
  const cell = (value, col, attrs = {}) => el("td", { "data-col": col, ...attrs }, value);
  return el("div", { class: "balance-scroll", tabindex: "0", role: "region", "aria-labelledby": "balance-table-caption" },
    el("table", { class: "balance-table", id: "balance-table" },
      el("caption", { id: "balance-table-caption" },
        `Bilanz je Gebiet – ${scenario.label}, Stand ${dateDe(data.at)}`),
      el("thead", {}, el("tr", {},
        ["Gebiet", "Markt\u00adangebot (ha)", "Rest\u00adbedarf (ha)", "Bilanz (ha)", "Reich\u00adweite (Jahre)",
          "Erster Fehl\u00adbedarf"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, data.areas.map((a) => {
        const r = a.scenarios[scenario.key];
        return el("tr", { "data-area": a.ags || "region", class: (a.ags || "") === chosen.area ? "selected" : null },
          el("th", { scope: "row" }, a.name),
          cell(number(supplyNet(a)), "supply"),
          cell(number(r.demand_remaining_net_ha), "demand"),
          cell(number(r.balance_net_ha), "balance", { class: r.balance_net_ha < 0 ? "negative" : null }),
          cell(number(r.reach_years), "reach"),
          cell(r.first_shortfall_year ? String(r.first_shortfall_year) : `kein Fehlbedarf bis ${last}`,
            "shortfall", { class: "text" }));
      }))));
}

function supplyTable(area, scenarios) {
  const row = (name, value, attrs = {}) => el("tr", attrs, el("th", { scope: "row" }, name), el("td", {}, ha(value)));
  const classes = availabilityCodes(area);
  return el("table", { class: "balance-table", id: "balance-supply-table" },
    el("caption", {}, `Angebot und Restbedarf – ${area.name} (ha netto)`),
    el("tbody", {},
      classes.map((code) => row(`Angebot ${label("availability", code)}`, area.supply.by_availability[code])),
      row("Angebot gesamt (alle erfassten Flächen)", area.supply.net_ha, { class: "sum" }),
      row("davon Marktangebot (Grundlage der Bilanz)", area.supply.market_net_ha),
      row("davon Potenzialflächen", area.supply.potential_net_ha),
      scenarios.map((s) => row(`Restbedarf ${s.label}`, area.scenarios[s.key].demand_remaining_net_ha))));
}

/** The area's availability classes in the vocabulary's order (unknown codes last). */
function availabilityCodes(area) {
  const order = terms("availability").map((t) => t.code);
  const rank = (code) => (order.includes(code) ? order.indexOf(code) : order.length);
  return Object.keys(area.supply.by_availability).sort((a, b) => rank(a) - rank(b));
}

function phasedTable(area, result) {
  return el("details", { class: "balance-details" },
    el("summary", {}, "Zeitliche Staffelung als Tabelle"),
    el("table", { class: "balance-table" },
      el("caption", {}, `Kumuliert je Jahr – ${area.name} (ha netto)`),
      el("thead", {}, el("tr", {}, ["Jahr", "Angebot", "Bedarf", "Bilanz"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, (result.phased || []).map((p) => el("tr", {},
        el("th", { scope: "row" }, String(p.year)), el("td", {}, ha(p.supply_cum_net_ha)),
        el("td", {}, ha(p.demand_cum_net_ha)), el("td", {}, ha(p.balance_net_ha)))))));
}

function notes() {
  const potential = (data.potential_categories || []).map((c) => label("category", c)).join(", ");
  return el("details", { class: "balance-details" },
    el("summary", {}, "Erläuterungen"),
    el("ul", {},
      data.supply_scope === "all" ? el("li", {}, "Die Bilanz zählt alle erfassten Flächen.")
        : el("li", {}, `Die Bilanz zählt das Marktangebot: ohne die Potenzialkategorien (${potential}).`),
      el("li", {}, "Angebot: Flächen aktiver Standorte mit Vermarktungsstatus verfügbar oder reserviert; ",
        "die Filter der Suche gelten hier nicht."),
      el("li", {}, "Reichweite: Jahre, die das Marktangebot beim jährlichen Bedarf des Szenarios reicht."),
      (data.notes || []).map((n) => el("li", {}, n))));
}

function choropleth() {
  const pairs = data.areas.filter((a) => a.level === "district" && a.ags)
    .flatMap((a) => [a.ags, reachColour(reachClass(a.scenarios[chosen.scenario]))]);
  return pairs.length ? ["match", ["to-string", ["get", "ags"]], ...pairs, "rgba(0, 0, 0, 0)"] : null;
}

function showChoropleth() {
  if (open && data) setDistrictFill(choropleth());
}

async function drawCharts(token, selection) {
  const panel = document.getElementById("panel-balance");
  panel.dataset.charts = "pending";
  try {
    await loadChartJs();
    if (token !== renderToken) return;  // rendered again meanwhile
    const canvas = (id) => document.getElementById(id);
    const scenarios = data.scenarios;
    drawSupplyChart(canvas("balance-chart-supply"), { area: selection.area, scenarios,
      chosen: selection.scenario.key, supplyNet: supplyNet(selection.area) });
    drawPhasedChart(canvas("balance-chart-phased"), { result: selection.result });
    drawReachChart(canvas("balance-chart-reach"), { areas: data.areas, chosen: selection.scenario.key,
      selected: chosen.area });
    panel.dataset.charts = "drawn";
  } catch (error) {
    if (token !== renderToken) return;
    panel.dataset.charts = "error";
    const message = `Die Diagramme konnten nicht gezeichnet werden: ${error.messageDe || error.message || error} ` +
      "Die Zahlen stehen in den Tabellen.";
    setError(message);
    showError(germanError(message));
  }
}

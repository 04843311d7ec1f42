// The search panel: the registry's filters as a form, the matching parcels as a list. The
// form writes the page state (URL fragment); the list and the map read it.

import { request } from "./api.js";
import { FILTER_KEYS, LIST_KEYS, filterParams, getState, setState } from "./state.js";
import { dateDe, el, ha, integer, label, showError, terms } from "./ui.js";

/** Marketing status shown when the state names none (the API's search default too). */
export const DEFAULT_MARKETING_STATUS = ["verfuegbar"];
const PAGE_SIZE = 50;

let listController;
let nextLink = null;

/** The selection as API query parameters: the filters (with the default status) and `at`. */
export function selectionParams(state = getState()) {
  const params = filterParams(state);
  if (!state.marketing_status) {
    for (const code of DEFAULT_MARKETING_STATUS) params.append("marketing_status", code);
  }
  if (state.at) params.set("at", state.at);
  return params;
}

function checkboxes(name, legend, options) {
  return el("fieldset", { class: `checks checks-${name}` }, el("legend", {}, legend),
    options.map((term) => el("label", {},
      el("input", { type: "checkbox", name, value: term.code }), ` ${term.label}`)));
}

function select(name, text, options, emptyLabel = "alle") {
  const id = `filter-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, text),
    el("select", { id, name }, el("option", { value: "" }, emptyLabel),
      options.map((o) => el("option", { value: o.code }, o.label))));
}

function number(name, text, attrs = {}) {
  const id = `filter-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, text),
    el("input", { id, name, type: "number", inputmode: "decimal", min: "0", step: "any", ...attrs }));
}

/** Build the filter form (districts: [{ags, name}]). */
export function buildSearchForm(districts) {
  const form = document.getElementById("search-form");
  const restriction = terms("restriction_level").filter((t) => t.code !== "unbekannt");
  form.replaceChildren(
    el("div", { class: "field" }, el("label", { for: "filter-q" }, "Name von Standort oder Fläche"),
      el("input", { id: "filter-q", name: "q", type: "search", maxlength: "200" })),
    select("district", "Kreis", districts.map((d) => ({ code: d.ags, label: d.name })), "alle Kreise"),
    select("user_group", "Nutzergruppe", terms("user_group"), "alle Nutzergruppen"),
    checkboxes("availability", "Zeitliche Verfügbarkeit", terms("availability")),
    select("restriction_max", "Verwertungsbeschränkung höchstens", restriction, "beliebig"),
    el("div", { class: "field-row" },
      number("net_area_min_ha", "Nettofläche ab (ha)"),
      number("net_area_max_ha", "bis (ha)")),
    number("max_junction_km", "Autobahnanschluss höchstens (km)"),
    el("fieldset", { class: "checks" }, el("legend", {}, "Ausstattung"),
      el("label", {}, el("input", { type: "checkbox", name: "rail_siding", value: "true" }), " Gleisanschluss"),
      el("label", {}, el("input", { type: "checkbox", name: "operation_24h", value: "true" }), " 24-Stunden-Betrieb")),
    checkboxes("marketing_status", "Vermarktungsstand", terms("marketing_status")),
    el("div", { class: "form-buttons" },
      el("button", { type: "reset", id: "filter-reset" }, "Filter zurücksetzen")),
  );
  let typing;
  form.addEventListener("input", (event) => {
    window.clearTimeout(typing);
    const delay = event.target.type === "search" || event.target.type === "number" ? 400 : 0;
    typing = window.setTimeout(() => setState(readForm(form), { push: false }), delay);
  });
  form.addEventListener("reset", () => {
    window.setTimeout(() => setState(Object.fromEntries(FILTER_KEYS.map((k) => [k, undefined]))), 0);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  writeForm(form, getState());
}

function readForm(form) {
  const patch = {};
  for (const key of FILTER_KEYS) {
    const inputs = [...form.elements].filter((e) => e.name === key);
    if (!inputs.length) continue;
    if (inputs[0].type === "checkbox" && inputs.length > 1) {
      patch[key] = inputs.filter((i) => i.checked).map((i) => i.value);
    } else if (inputs[0].type === "checkbox") {
      patch[key] = inputs[0].checked ? "true" : undefined;
    } else if (inputs[0].tagName === "SELECT" && LIST_KEYS.has(key)) {  // one of a list key
      patch[key] = inputs[0].value ? [inputs[0].value] : undefined;
    } else {
      patch[key] = inputs[0].value.trim() || undefined;
    }
  }
  return patch;
}

/** Put the state's filters into the form (on load and when the fragment changes). */
export function writeForm(form, state) {
  const status = state.marketing_status || DEFAULT_MARKETING_STATUS;
  for (const input of form.elements) {
    if (!input.name) continue;
    const value = input.name === "marketing_status" ? status : state[input.name];
    if (input.type === "checkbox") {
      input.checked = Array.isArray(value) ? value.includes(input.value) : value === input.value;
    } else if (input.tagName === "SELECT" || input.tagName === "INPUT") {
      const first = Array.isArray(value) ? value[0] : value;
      if (document.activeElement !== input) input.value = first || "";
    }
  }
}

/** Reload the result list for the state (first page, with the total). */
export async function loadResults(state, onSelect) {
  if (listController) listController.abort();
  listController = new AbortController();
  const params = selectionParams(state);
  params.set("limit", String(PAGE_SIZE));
  params.set("count", "true");
  params.set("sort", "-net_area_ha");
  const list = document.getElementById("result-list");
  const count = document.getElementById("result-count");
  list.setAttribute("aria-busy", "true");
  try {
    const { data } = await request("parcels", { params, signal: listController.signal });
    const when = state.at ? ` (Stand ${dateDe(state.at)})` : "";
    const estimate = data.numberMatchedEstimated ? "etwa " : "";
    count.textContent = `${estimate}${integer(data.numberMatched)} Flächen${when}`;
    count.dataset.count = String(data.numberMatched);
    list.replaceChildren(...data.items.map((item) => resultItem(item, onSelect)));
    setNext(data.links);
  } catch (error) {
    if (error.name !== "AbortError") {
      count.textContent = "Die Liste konnte nicht geladen werden.";
      showError(error);
    }
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function setNext(links) {
  const next = (links || []).find((l) => l.rel === "next");
  nextLink = next ? next.href : null;
  document.getElementById("result-more").hidden = !nextLink;
}

/** Append the next page of results. */
export async function loadMore(onSelect) {
  if (!nextLink) return;
  try {
    const { data } = await request(nextLink);
    document.getElementById("result-list").append(...data.items.map((i) => resultItem(i, onSelect)));
    setNext(data.links);
  } catch (error) {
    showError(error);
  }
}

function resultItem(item, onSelect) {
  const button = el("button", { type: "button", class: "result", "data-parcel-id": item.id,
    onclick: () => onSelect(item.id) },
  el("span", { class: `dot availability-${item.availability}`, "aria-hidden": "true" }),
  el("span", { class: "result-name" }, item.name || `Fläche ${item.id}`),
  el("span", { class: "result-site" }, item.site_name || ""),
  el("span", { class: "result-facts" },
    `${ha(item.net_area_ha)} · ${label("availability", item.availability)}`));
  return el("li", {}, button);
}

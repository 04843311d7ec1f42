// The web map's entry point: loads the vocabularies, districts and the stored key, builds
// the map and the panels, and keeps map, list, card and panels in step with the page state.

import { getConfig, request } from "./api.js";
import { getPrincipal, initAuth, onPrincipalChange } from "./auth.js";
import { onCardShown, setDistrictNames, showCard } from "./card.js";
import { initBalance } from "./balance.js";
import { initEditing } from "./edit.js";
import {
  PARCEL_ZOOM, createMap, fitBounds, geometryBounds, getMap, onParcelClick, reloadParcels,
  selectParcel, setParcelQuery,
} from "./map.js";
import { initMatching } from "./matching.js";
import { buildSearchForm, loadMore, loadResults, selectionParams, writeForm } from "./search.js";
import { FILTER_KEYS, getState, onStateChange, setState } from "./state.js";
import { initTimeSlider } from "./timeslider.js";
import { el, loadVocabularies, showError, showStatus } from "./ui.js";

const TABS = ["search", "match", "balance"];
let districtBounds = {};

async function loadDistricts() {
  const params = new URLSearchParams({ simplify_m: "1000", f: "geojson" });
  const { data } = await request("districts", { params });
  const districts = data.features.map((f) => ({ ags: f.properties.ags, name: f.properties.name }));
  districtBounds = Object.fromEntries(data.features.map((f) => [f.properties.ags, geometryBounds([f.geometry])]));
  setDistrictNames(Object.fromEntries(districts.map((d) => [d.ags, d.name])));
  return districts;
}

function showTab(tab) {
  const active = TABS.includes(tab) ? tab : "search";
  for (const name of TABS) {
    const selected = name === active;
    document.getElementById(`tab-${name}`).setAttribute("aria-selected", String(selected));
    document.getElementById(`tab-${name}`).tabIndex = selected ? 0 : -1;
    document.getElementById(`panel-${name}`).hidden = !selected;
  }
}

function initTabs() {
  const list = document.querySelector('[role="tablist"]');
  list.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) setState({ tab: tab.id === "tab-search" ? undefined : tab.id.slice(4) });
  });
  list.addEventListener("keydown", (event) => {  // arrow keys move between tabs
    if (!["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    const current = TABS.indexOf(getState().tab || "search");
    const next = TABS[(current + (event.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    setState({ tab: next === "search" ? undefined : next });
    document.getElementById(`tab-${next}`).focus();
  });
}

function parseView(text) {
  const [zoom, lat, lon] = (text || "").split("/").map(Number);
  return [zoom, lat, lon].every(Number.isFinite) ? { zoom, lat, lon } : null;
}

/** Move the map to a view set from outside (a link, the back button); its own moves
 * write the same view and change nothing. */
function followView(map, view) {
  if (!view) return;
  const c = map.getCenter();
  if (Math.abs(view.zoom - map.getZoom()) > 0.01 || Math.abs(view.lat - c.lat) > 1e-5 ||
      Math.abs(view.lon - c.lng) > 1e-5) map.jumpTo({ center: [view.lon, view.lat], zoom: view.zoom });
}

function selectParcelId(id) {
  setState({ parcel: String(id) }, { push: true });
}

async function start() {
  initTabs();
  const state = getState();
  showTab(state.tab);
  // The map starts at once (its style and tiles need nothing else); the form and the list
  // once the vocabularies and districts are there.
  const mapReady = createMap(selectionParams(state).toString(), parseView(state.map),
    getConfig().regionBounds);
  const [districts] = await Promise.all([loadDistricts(), loadVocabularies(), initAuth()]);
  buildSearchForm(districts);
  const showTime = initTimeSlider();
  const listReady = loadResults(state, selectParcelId);
  const map = await mapReady;
  onParcelClick((feature, event) => {
    if (feature.properties.aggregated) {  // a site at low zoom: zoom in to its parcels
      map.easeTo({ center: event.lngLat, zoom: PARCEL_ZOOM, duration: 0 });
      return;
    }
    selectParcelId(feature.id);
  });
  map.on("moveend", () => {
    const c = map.getCenter();
    setState({ map: `${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}` });
  });
  document.getElementById("result-more").addEventListener("click", () => loadMore(selectParcelId));
  onCardShown(({ parcel }) => {  // bring the parcel into view, drawn singly
    if (!parcel.geometry) return;
    const [[w, s], [e, n]] = geometryBounds([parcel.geometry]);
    const view = map.getBounds();
    if (map.getZoom() < PARCEL_ZOOM || !(view.contains([w, s]) && view.contains([e, n]))) {
      fitBounds([[w, s], [e, n]], { maxZoom: 16, minZoom: PARCEL_ZOOM });
    }
  });
  const closeCard = () => setState({ parcel: undefined }, { push: true });

  onStateChange((next, changed) => {
    const refreshed = changed.includes("refresh");
    const selectionChanged = changed.some((k) => FILTER_KEYS.includes(k) || k === "at");
    if (selectionChanged) {
      writeForm(document.getElementById("search-form"), next);
      setParcelQuery(selectionParams(next).toString());
    }
    if (refreshed) reloadParcels();
    if (selectionChanged || refreshed) loadResults(next, selectParcelId);
    if (changed.includes("district") && next.district && next.district.length === 1 &&
        districtBounds[next.district[0]]) fitBounds(districtBounds[next.district[0]]);
    if (changed.includes("map")) followView(map, parseView(next.map));
    if (changed.includes("at")) showTime(next);
    if (changed.includes("tab")) showTab(next.tab);
    if (changed.includes("parcel") || (refreshed && next.parcel) || (changed.includes("at") && next.parcel)) {
      selectParcel(next.parcel);
      showCard(next.parcel, { at: next.at, onClose: closeCard });
    }
  });
  onPrincipalChange(() => {
    reloadParcels();
    const now = getState();
    loadResults(now, selectParcelId);
    if (now.parcel) showCard(now.parcel, { at: now.at, onClose: closeCard });
  });

  initMatching(districts);
  initBalance();
  initEditing();
  if (state.parcel) {
    selectParcel(state.parcel);
    showCard(state.parcel, { at: state.at, onClose: closeCard });
  }
  if (!parseView(state.map) && state.district && state.district.length === 1 &&
      districtBounds[state.district[0]]) fitBounds(districtBounds[state.district[0]]);
  await listReady;
  document.body.dataset.ready = "true";
  performance.mark("gefis-ready");  // bench/map_render.py reads it
  window.gefis = { ...window.gefis, ready: true, getPrincipal, onCardShown, config: getConfig() };
}

start().catch((error) => {
  showError(error);
  document.getElementById("map").replaceChildren(el("p", { class: "map-error" },
    "Die Karte konnte nicht gestartet werden. ", error.messageDe || String(error)));
  showStatus(error.messageDe || `Die Karte konnte nicht gestartet werden: ${error}`, { error: true });
  document.body.dataset.ready = "error";
});

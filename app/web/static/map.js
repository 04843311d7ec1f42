// The map: MapLibre GL JS drawing the service's own style (/styles/gefis: parcels by
// availability class, sites, boundaries, motorways) from its vector tiles. The parcels'
// tiles carry the page's filter and day, so map and list always show the same selection.

import * as maplibregl from "../vendor/maplibre-gl/maplibre-gl.mjs";
import { authHeaders, getConfig, isServiceUrl, request } from "./api.js";
import { el, showStatus } from "./ui.js";

/** Tile layers whose features can be clicked (parcels as polygons, small sites as points). */
export const PARCEL_LAYERS = ["parcels-fill", "sites-small"];
/** Zoom from which the parcel tiles carry single parcels (below: one feature per site). */
export const PARCEL_ZOOM = 13;

let map;
let parcelQuery = "";
let tileErrorShown = false;
let revalidate = false;

/** Deepest zoom of the service's tiles (as its TileJSON says); the map overzooms beyond. */
const TILE_MAX_ZOOM = 16;

/** The tile URL template of a collection, with a query string (filters and `at`). */
function tileTemplate(collection, query = "") {
  const { base } = getConfig();
  return `${base}/collections/${collection}/tiles/WebMercatorQuad/{z}/{y}/{x}${query ? `?${query}` : ""}`;
}

/** The parcels' tile URL template for a query string of filters (and `at`). */
export function parcelTileTemplate(query) {
  return tileTemplate("parcels", query);
}

async function loadStyle() {
  const config = getConfig();
  const { data: style } = await request(config.styleUrl, { headers: { Accept: "application/json" } });
  // The service's sources as explicit templates instead of TileJSON links: one round trip
  // less before the first tile, and the parcels' template carries the page's filters.
  const [[west, south], [east, north]] = config.regionBounds;
  for (const [id, source] of Object.entries(style.sources)) {
    if (source.type !== "vector" || !source.url || !isServiceUrl(source.url)) continue;
    style.sources[id] = {
      type: "vector", tiles: [id === "parcels" ? parcelTileTemplate(parcelQuery) : tileTemplate(id)],
      minzoom: 0, maxzoom: TILE_MAX_ZOOM, bounds: [west, south, east, north],
      attribution: source.attribution,
    };
  }
  // The districts filled by a value (the balance's reach): beneath the parcels, off at first.
  const parcelsAt = style.layers.findIndex((l) => l.id === "parcels-fill");
  style.layers.splice(parcelsAt, 0, {
    id: "districts-choropleth", type: "fill", source: "districts", "source-layer": "districts",
    layout: { visibility: "none" }, paint: { "fill-color": "#ffffff", "fill-opacity": 0.55 },
  });
  // Highlighted parcels (matching results): drawn above the parcels.
  style.layers.push({
    id: "parcels-highlight", type: "line", source: "parcels", "source-layer": "parcels",
    filter: highlightFilter([]),
    paint: { "line-color": "#c2185b", "line-width": 3 },
  });
  style.layers.push({
    id: "parcels-selected", type: "line", source: "parcels", "source-layer": "parcels",
    filter: highlightFilter([]), paint: { "line-color": "#0d47a1", "line-width": 3 },
  });
  if (config.backgroundStyleUrl) {
    // The background map's style first; the service's layers on top of it.
    const { data: background } = await request(config.backgroundStyleUrl);
    background.sources = { ...background.sources, ...style.sources };
    const own = style.layers.filter((l) => l.type !== "background");
    background.layers = [...background.layers, ...own];
    background.metadata = style.metadata;
    return background;
  }
  return style;
}

/** Create the map in #map showing `view` ({zoom, lat, lon}) or else `regionBounds`
 * ([[w, s], [e, n]]); resolves once the style is loaded. */
export async function createMap(initialParcelQuery, view, regionBounds) {
  parcelQuery = initialParcelQuery;
  const style = await loadStyle();
  map = new maplibregl.Map({
    container: "map",
    style,
    bounds: view ? undefined : regionBounds,
    fitBoundsOptions: { padding: 10 },
    center: view ? [view.lon, view.lat] : undefined,
    zoom: view ? view.zoom : undefined,
    attributionControl: false,
    // After an edit, tiles are revalidated (ETag) instead of taken from the browser's cache.
    transformRequest: (url) => (isServiceUrl(url)
      ? { url, headers: authHeaders(), ...(revalidate ? { cache: "no-cache" } : {}) } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  // The sources carry the attribution (BKG for the boundaries, the demo's synthetic data).
  map.addControl(new maplibregl.AttributionControl({ compact: false }), "bottom-right");
  map.on("error", (event) => {
    const status = event.error && event.error.status;
    if (tileErrorShown) return;
    tileErrorShown = true;
    showStatus(status === 401 ? "Kacheln: der API-Schlüssel wurde abgelehnt."
      : "Die Kartenkacheln konnten nicht geladen werden. Der Dienst antwortet nicht oder ist überlastet.",
    { error: true });
  });
  map.on("sourcedata", (event) => {
    if (event.isSourceLoaded && event.sourceId === "parcels") tileErrorShown = false;
  });
  for (const layer of PARCEL_LAYERS) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
  window.gefis = { ...(window.gefis || {}), map, maplibregl };
  await new Promise((resolve) => map.once("load", resolve));
  renderLegend(style.metadata);
  return map;
}

/** The map (after createMap). */
export function getMap() {
  return map;
}

/** Show the parcels selected by `query` (a query string of filters and `at`). */
export function setParcelQuery(query) {
  if (query === parcelQuery) return;
  parcelQuery = query;
  const source = map.getSource("parcels");
  if (source) source.setTiles([parcelTileTemplate(query)]);
}

/** Reload the parcel tiles (after an edit or a sign-in), asking the service again. */
export function reloadParcels() {
  revalidate = true;
  map.getSource("parcels").setTiles([parcelTileTemplate(parcelQuery)]);
  map.once("idle", () => { revalidate = false; });
}

/** Outline the parcels with these ids (matching results); an empty list clears it. */
export function highlightParcels(ids) {
  map.setFilter("parcels-highlight", highlightFilter(ids));
}

/** Outline the selected parcel (or none). */
export function selectParcel(id) {
  map.setFilter("parcels-selected", highlightFilter(id ? [id] : []));
}

/** Single parcels (not sites aggregated at low zoom) with one of these ids. */
function highlightFilter(ids) {
  return ["all", ["!=", ["get", "aggregated"], true], ["in", ["id"], ["literal", ids.map(Number)]]];
}

/** Fill the districts with `colour`, a MapLibre expression over the district tiles'
 * properties (e.g. a "match" on "ags"); null hides the fill. */
export function setDistrictFill(colour) {
  if (colour === null) {
    map.setLayoutProperty("districts-choropleth", "visibility", "none");
    return;
  }
  map.setPaintProperty("districts-choropleth", "fill-color", colour);
  map.setLayoutProperty("districts-choropleth", "visibility", "visible");
}

/** The bounding box [[w, s], [e, n]] (lon/lat) of GeoJSON geometries; null for none. */
export function geometryBounds(geometries) {
  let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === "number") {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(walk);
  };
  for (const geometry of geometries) walk(geometry.coordinates);
  return Number.isFinite(w) ? [[w, s], [e, n]] : null;
}

/** Fit the map to [[w, s], [e, n]] (at most `maxZoom`, at least `minZoom`). */
export function fitBounds(bounds, { minZoom = 0, ...options } = {}) {
  const camera = map.cameraForBounds(bounds, { padding: 40, maxZoom: 16, ...options });
  if (camera) map.jumpTo({ ...camera, zoom: Math.max(camera.zoom, minZoom) });
}

/** Call `handler(feature)` when a parcel or an aggregated site is clicked. */
export function onParcelClick(handler) {
  map.on("click", (event) => {
    const features = map.queryRenderedFeatures(event.point, { layers: PARCEL_LAYERS });
    if (features.length) handler(features[0], event);
  });
}

function renderLegend(metadata) {
  const legend = document.getElementById("legend");
  const entries = (metadata && metadata["gefis:legend"] && metadata["gefis:legend"].availability) || [];
  legend.replaceChildren(
    el("h2", {}, "Zeitliche Verfügbarkeit"),
    el("ul", {}, entries.map((entry) => el("li", {},
      el("span", { class: "swatch", style: `background:${entry.colour}`, "aria-hidden": "true" }),
      entry.label))),
    el("p", { class: "legend-note" }, `Unter Zoomstufe ${PARCEL_ZOOM}: ein Symbol je Standort`),
  );
}

// The answer of the investor matching (POST /api/v1/matches) in #panel-match: the ranked
// parcels with the API's German reasons, combinations of adjacent parcels, and all of them
// outlined on the map (single parcels from zoom 13, their sites below it), and the
// confirmation of a saved enquiry.

import { request } from "./api.js";
import { PARCEL_ZOOM, fitBounds, geometryBounds, getMap, highlightParcels } from "./map.js";
import { dateDe, decimal, el, ha, label, showError } from "./ui.js";

/** Own layers: the sites holding results, for zooms where parcels are drawn per site. */
const SITE_LAYERS = ["match-sites-outline", "match-sites-point"];
const COLOUR = "#c2185b";  // as the map's "parcels-highlight"

let shown = { ids: [], siteIds: [] };  // what the map outlines while the panel is open
let geometryController;

function siteFilter(siteIds, geometryType) {
  return ["all", ["==", ["get", "aggregated"], true], ["==", ["geometry-type"], geometryType],
    ["in", ["get", "site_id"], ["literal", siteIds.map(Number)]]];
}

function ensureSiteLayers(map) {
  if (map.getLayer(SITE_LAYERS[0])) return;
  const below = map.getLayer("parcels-highlight") ? "parcels-highlight" : undefined;
  map.addLayer({
    id: SITE_LAYERS[0], type: "line", source: "parcels", "source-layer": "parcels",
    maxzoom: PARCEL_ZOOM, filter: siteFilter([], "Polygon"),
    paint: { "line-color": COLOUR, "line-width": 3 },
  }, below);
  map.addLayer({
    id: SITE_LAYERS[1], type: "circle", source: "parcels", "source-layer": "parcels",
    maxzoom: PARCEL_ZOOM, filter: siteFilter([], "Point"),
    paint: { "circle-radius": 9, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": COLOUR,
      "circle-stroke-width": 3 },
  }, below);
}

/** Outline parcels `ids` (and, at low zoom, their sites `siteIds`) on the map. */
function outline(ids, siteIds) {
  const map = getMap();
  highlightParcels(ids);
  ensureSiteLayers(map);
  map.setFilter(SITE_LAYERS[0], siteFilter(siteIds, "Polygon"));
  map.setFilter(SITE_LAYERS[1], siteFilter(siteIds, "Point"));
}

/** Show (true) or hide (false) the outlines of the current results, e.g. as the tab changes. */
export function showOutlines(visible) {
  if (visible) outline(shown.ids, shown.siteIds);
  else outline([], []);
}

/** Forget the results on the map: no outline, no pending geometry request. */
export function clearOutlines() {
  if (geometryController) geometryController.abort();
  shown = { ids: [], siteIds: [] };
  outline([], []);
}

/** Every parcel id of an answer (singles, then the parts of combinations) and their sites. */
export function answerIds(data) {
  const ids = [...data.results.map((r) => r.parcel_id), ...data.combinations.flatMap((c) => c.parcel_ids)];
  const siteIds = [...data.results.map((r) => r.parcel.site_id), ...data.combinations.map((c) => c.site_id)];
  return { ids: [...new Set(ids)], siteIds: [...new Set(siteIds.filter((s) => s !== null && s !== undefined))] };
}

/** The parcels' geometries (the answer carries none): one OGC API request, CQL2 over ids. */
async function geometries(ids, signal) {
  const params = new URLSearchParams({
    filter: `id IN (${ids.map(Number).join(",")})`, properties: "site_id",
    limit: String(ids.length), f: "json",
  });
  const { data } = await request("/collections/parcels/items", { params, signal });
  return data.features || [];
}

/** Outline the answer's parcels on the map and (with `fit`) fit the map to them.
 * Resolves once the map has been moved (or nothing was to be moved). */
export async function showAnswerOnMap(data, { fit = true, visible = true } = {}) {
  if (geometryController) geometryController.abort();
  shown = answerIds(data);
  showOutlines(visible);
  if (!fit || !shown.ids.length) return;
  geometryController = new AbortController();
  const features = await geometries(shown.ids, geometryController.signal);
  const bounds = geometryBounds(features.map((f) => f.geometry).filter(Boolean));
  if (bounds) fitBounds(bounds, { maxZoom: 16, padding: fitPadding() });
}

/** Room around the results: the legend covers the map's upper left corner. */
function fitPadding() {
  const legend = document.getElementById("legend");
  const width = getMap().getContainer().clientWidth;
  const side = legend ? legend.offsetLeft + legend.offsetWidth + 20 : 40;
  return width > 3 * side ? { top: 40, bottom: 40, right: 60, left: side } : 40;
}

function criteriaList(criteria, id) {
  return el("ul", { class: "match-reasons", id, "aria-label": "Begründung" },
    criteria.map((c) => el("li", { class: c.met ? "met" : "missed", "data-key": c.key },
      el("span", { class: "match-mark", "aria-hidden": "true" }, c.met ? "✓" : "✗"),
      el("span", { class: "match-reason" },
        el("span", { class: "match-sr" }, c.met ? "erfüllt: " : "nicht erfüllt: "), c.reason))));
}

function scoreText(score) {
  return score === null || score === undefined ? null : `Eignung ${decimal(score, 1)} von 100`;
}

function singleItem(result, rank, onSelect) {
  const p = result.parcel;
  const name = p.name || `Fläche ${result.parcel_id}`;
  return el("li", { class: "match-item", "data-parcel-id": result.parcel_id },
    el("button", { type: "button", class: "match-result", "data-parcel-id": result.parcel_id,
      onclick: () => onSelect(result.parcel_id) },
    el("span", { class: "match-rank" }, el("span", { class: "match-sr" }, "Rang "), String(rank)),
    el("span", { class: "match-name" }, name),
    el("span", { class: "match-site" }, p.site_name || ""),
    el("span", { class: "match-facts" }, [ha(p.net_area_ha), scoreText(result.score)]
      .filter(Boolean).join(" · "))),
    criteriaList(result.criteria, `match-reasons-${result.parcel_id}`));
}

function combinationItem(combo, rank, onSelect) {
  const site = (combo.parcels[0] && combo.parcels[0].site_name) || `Standort ${combo.site_id}`;
  return el("li", { class: "match-item match-combination", "data-parcel-ids": combo.parcel_ids.join(",") },
    el("p", { class: "match-combo-head" },
      el("span", { class: "match-rank" }, el("span", { class: "match-sr" }, "Rang "), String(rank)),
      el("span", { class: "match-name" }, site),
      el("span", { class: "match-facts" }, [`zusammen ${ha(combo.net_area_ha)}`, scoreText(combo.score)]
        .filter(Boolean).join(" · "))),
    el("ul", { class: "match-parts", "aria-label": "Teilflächen" }, combo.parcels.map((p) =>
      el("li", {}, el("button", { type: "button", class: "link", "data-parcel-id": p.id,
        onclick: () => onSelect(p.id) }, `${p.name || `Fläche ${p.id}`} (${ha(p.net_area_ha)})`)))),
    criteriaList(combo.criteria, `match-reasons-combo-${rank}`));
}

/** Draw the answer into `parts` ({count, list, combos}); `onSelect(id)` opens a parcel. */
export function renderAnswer(data, parts, onSelect) {
  const singles = data.results.length;
  const combos = data.combinations.length;
  const day = data.reference_date ? ` (Stand ${dateDe(data.reference_date)})` : "";
  let text;
  if (singles) text = `${singles} passende ${singles === 1 ? "Fläche" : "Flächen"}${day}`;
  else if (combos) {
    text = `Keine einzelne Fläche ist groß genug – ${combos} ${combos === 1 ? "Kombination" : "Kombinationen"} benachbarter Flächen${day}`;
  } else text = `Keine passende Fläche gefunden${day}. Bitte die Anforderungen lockern.`;
  parts.count.textContent = text;
  parts.count.dataset.count = String(singles);
  parts.list.replaceChildren(...data.results.map((r, i) => singleItem(r, i + 1, onSelect)));
  parts.list.hidden = !singles;
  parts.combos.replaceChildren(...(combos ? [
    el("h3", { class: "match-subtitle", id: "match-combos-title" }, "Kombinationen benachbarter Flächen"),
    el("p", { class: "match-hint" }, "Die Flächen je Eintrag liegen nebeneinander auf einem Standort und ",
      "erreichen den Bedarf nur zusammen; die übrigen Kriterien gelten für die ungünstigste Teilfläche."),
    el("ol", { class: "match-list", "aria-labelledby": "match-combos-title" },
      data.combinations.map((c, i) => combinationItem(c, i + 1, onSelect))),
  ] : []));
  parts.combos.hidden = !combos;
}

/** Confirm in `container` that the enquiry `id` was saved; a button shows what was stored. */
export function renderSaved(container, id) {
  const details = el("div", { class: "match-enquiry" });
  const show = async () => {
    try {
      const { data } = await request(`enquiries/${id}`);
      details.replaceChildren(el("dl", {},
        el("dt", {}, "Eingang"), el("dd", {}, dateDe(data.received_on)),
        el("dt", {}, "Nutzergruppe"), el("dd", {}, label("user_group", data.user_group)),
        el("dt", {}, "Ergebnis"), el("dd", {}, label("enquiry_outcome", data.outcome)),
        el("dt", {}, "Kreis"), el("dd", {}, data.district_name || "Region (kein einzelner Kreis)")));
    } catch (error) {
      details.replaceChildren(el("p", { class: "error" }, error.messageDe || String(error)));
      showError(error);
    }
  };
  container.replaceChildren(el("p", { class: "match-saved-text", "data-enquiry-id": id },
    `Die Anfrage wurde als Ansiedlungsanfrage Nr. ${id} gespeichert. `,
    el("button", { type: "button", class: "link", id: "match-enquiry-show", onclick: show },
      "Gespeicherte Anfrage anzeigen")), details);
}

/** Mark the result of parcel `id` as the one whose card is open. */
export function markCurrent(root, id) {
  for (const button of root.querySelectorAll("button[data-parcel-id]")) {
    if (button.dataset.parcelId === String(id)) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

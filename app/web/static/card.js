// The parcel card: every fact the caller may see (the API leaves out what is withheld),
// restrictions with their causes, suitability, the history as a timeline (staff) and links
// to the site profile and exports. Other modules add to it through onCardShown (editing).

import { apiKey, authHeaders, getConfig, request } from "./api.js";
import { dateDe, decimal, el, ha, label, showError } from "./ui.js";

/** The card's facts in order: [field, German label, how to show the value]. */
const FACTS = [
  ["Lage und Planung", [
    ["site_name", "Standort"], ["district_ags", "Kreis", "district"],
    ["municipality_ags", "Gemeinde (AGS)"], ["category", "Flächenkategorie", "category"],
    ["planning_status", "Planungsstand", "planning_status"], ["zoning", "Gebietstyp", "zoning"],
    ["servicing", "Erschließung", "servicing"],
  ]],
  ["Größe", [
    ["net_area_ha", "Nettofläche", "ha"], ["gross_area_ha", "Bruttofläche", "ha"],
  ]],
  ["Verfügbarkeit", [
    ["availability", "Zeitliche Verfügbarkeit", "availability"],
    ["available_from", "Verfügbar ab", "date"],
    ["availability_assessed_on", "Eingeschätzt am", "date"],
    ["marketing_status", "Vermarktungsstand", "marketing_status"],
  ]],
  ["Ausstattung", [
    ["distance_junction_km", "Autobahnanschluss", "km"], ["distance_airport_km", "Flughafen", "km"],
    ["rail_siding", "Gleisanschluss", "bool"], ["operation_24h", "24-Stunden-Betrieb", "bool"],
    ["broadband_mbps", "Breitband (Mbit/s)", "number"], ["grid_capacity_mw", "Netzanschluss (MW)", "number"],
    ["max_building_height_m", "Max. Gebäudehöhe (m)", "number"],
    ["noise_quota_db", "Lärmkontingent (dB)", "number"],
    ["slope_mean_pct", "Mittlere Hangneigung (%)", "number"],
    ["flood_hazard_share", "Anteil Hochwassergefahr", "percent"],
  ]],
  ["Vermarktung und Kontakt", [
    ["price_eur_m2", "Preis (€/m²)", "number"], ["owner_type", "Eigentümer (Art)", "owner_type"],
    ["owner_name", "Eigentümer"], ["contact_name", "Ansprechperson"],
    ["contact_email", "E-Mail", "email"], ["contact_phone", "Telefon"],
    ["internal_notes", "Interne Notizen"],
  ]],
  ["Stand", [
    ["last_verified_at", "Zuletzt geprüft", "date"], ["updated_at", "Zuletzt geändert", "date"],
    ["external_id", "Kennung des Kreises"],
  ]],
];

const cardHooks = [];
let districtNames = {};
let controller;

/** Call `hook({parcel, etag, card, reload})` whenever a card has been drawn. */
export function onCardShown(hook) {
  cardHooks.push(hook);
}

/** District names by AGS, for the card. */
export function setDistrictNames(names) {
  districtNames = names;
}

function show(value, kind) {
  if (value === null || value === undefined || value === "") return null;
  switch (kind) {
    case "ha": return ha(value);
    case "km": return `${decimal(value, 1)} km`;
    case "date": return dateDe(value);
    case "bool": return value ? "ja" : "nein";
    case "number": return decimal(value, 2);
    case "percent": return `${decimal(value * 100, 1)} %`;
    case "district": return districtNames[value] ? `${districtNames[value]} (${value})` : value;
    case "email": return el("a", { href: `mailto:${value}` }, value);
    case undefined: return String(value);
    default: return label(kind, value);
  }
}

function factsTable(parcel) {
  return FACTS.map(([heading, rows]) => {
    const shown = rows.map(([field, text, kind]) => [text, show(parcel[field], kind), field])
      .filter(([, value]) => value !== null);
    if (!shown.length) return null;
    return el("section", { class: "facts" }, el("h3", {}, heading),
      el("dl", {}, shown.map(([text, value, field]) => [
        el("dt", {}, text), el("dd", { "data-field": field }, value)])));
  });
}

function restrictions(parcel) {
  const causes = parcel.restriction_causes || [];
  return el("section", { class: "facts" }, el("h3", {}, "Verwertungsbeschränkung"),
    el("p", { "data-field": "restriction_level" }, label("restriction_level", parcel.restriction_level)),
    causes.length ? el("ul", { class: "causes", "data-field": "restriction_causes" },
      causes.map((c) => el("li", {}, label("restriction_cause", c)))) : null);
}

function suitability(parcel) {
  const groups = parcel.user_groups || [];
  return el("section", { class: "facts" }, el("h3", {}, "Geeignet für"),
    groups.length ? el("ul", { class: "groups", "data-field": "user_groups" },
      groups.map((g) => el("li", {}, label("user_group", g))))
      : el("p", {}, "keine Nutzergruppe angegeben"));
}

/** Fetch `url` with the key and save it (links cannot carry the Authorization header). */
async function download(url, filename) {
  try {
    const response = await fetch(url, { headers: authHeaders() });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    showError(error);
  }
}

function links(parcel) {
  const { apiBase } = getConfig();
  const items = [];
  if (parcel.site_id) {
    const profile = `${apiBase}/sites/${parcel.site_id}/profile?f=pdf`;
    items.push(el("li", {}, apiKey()
      ? el("button", { type: "button", class: "link",
        onclick: () => download(profile, `standortprofil_${parcel.site_id}.pdf`) }, "Standortprofil (PDF)")
      : el("a", { href: profile, target: "_blank", rel: "noopener" }, "Standortprofil (PDF)")));
  }
  items.push(el("li", {}, el("a", { href: `${apiBase}/parcels/${parcel.id}?f=geojson`, target: "_blank", rel: "noopener" },
    "Als GeoJSON")));
  if (apiKey()) {
    for (const [format, text] of [["gpkg", "GeoPackage"], ["xlsx", "Excel"]]) {
      const url = `${apiBase}/exports/parcels.${format}?site_id=${parcel.site_id}`;
      items.push(el("li", {}, el("button", { type: "button", class: "link",
        onclick: () => download(url, `standort_${parcel.site_id}_flaechen.${format}`) },
      `Flächen des Standorts als ${text}`)));
    }
  }
  return el("section", { class: "facts" }, el("h3", {}, "Weiteres"), el("ul", { class: "links" }, items));
}

function describeChanges(changes) {
  const names = Object.keys(changes || {});
  if (!names.length) return "angelegt";
  return names.map((n) => n.replaceAll("_", " ")).join(", ");
}

async function history(parcel, at) {
  const box = el("section", { class: "facts history" }, el("h3", {}, "Verlauf"));
  if (!apiKey()) {
    box.append(el("p", {}, "Der Verlauf ist für angemeldete Mitarbeitende sichtbar."));
    return box;
  }
  try {
    const params = new URLSearchParams(at ? { at } : {});
    const { data } = await request(`parcels/${parcel.id}/history`, { params });
    box.append(el("ol", { class: "timeline" }, data.entries.slice().reverse().map((entry) =>
      el("li", {}, el("time", { datetime: entry.changed_at }, dateDe(entry.changed_at)),
        el("span", { class: "reason" }, entry.reason || (entry.operation === "insert" ? "angelegt" : "geändert")),
        el("span", { class: "changed" }, describeChanges(entry.changes)),
        el("span", { class: "actor" }, entry.actor)))));
  } catch (error) {
    box.append(el("p", {}, error.messageDe || String(error)));
  }
  return box;
}

/** Show the card of parcel `id` (as of `at` for the history); closes it for no id. */
export async function showCard(id, { at, onClose } = {}) {
  const card = document.getElementById("card");
  if (!id) {
    card.hidden = true;
    card.replaceChildren();
    return;
  }
  if (controller) controller.abort();
  controller = new AbortController();
  card.hidden = false;
  card.setAttribute("aria-busy", "true");
  try {
    const { data: parcel, response } = await request(`parcels/${id}`, { signal: controller.signal });
    const etag = response.headers.get("ETag");
    const close = el("button", { type: "button", class: "close", "aria-label": "Steckbrief schließen",
      onclick: onClose }, "×");
    card.replaceChildren(
      el("header", {}, el("h2", { id: "card-title" }, parcel.name || `Fläche ${parcel.id}`), close),
      parcel.synthetic ? el("p", { class: "synthetic-note" }, "Synthetische Demodaten") : "",
      el("p", { class: `badge availability-${parcel.availability}` }, label("availability", parcel.availability)),
      at ? el("p", { class: "card-note" }, `Der Steckbrief zeigt den heutigen Stand, Karte und Liste den vom ${dateDe(at)}.`) : "",
      el("div", { id: "card-actions", class: "card-actions" }),
      ...factsTable(parcel).filter(Boolean), restrictions(parcel), suitability(parcel), links(parcel),
      await history(parcel, at),
    );
    card.dataset.parcelId = String(parcel.id);
    card.setAttribute("aria-labelledby", "card-title");
    for (const hook of cardHooks) hook({ parcel, etag, card, reload: () => showCard(id, { at, onClose }) });
    card.focus();
  } catch (error) {
    if (error.name === "AbortError") return;
    card.replaceChildren(el("p", { class: "error" }, error.messageDe || String(error)),
      el("button", { type: "button", onclick: onClose }, "Schließen"));
    showError(error);
  } finally {
    card.removeAttribute("aria-busy");
  }
}

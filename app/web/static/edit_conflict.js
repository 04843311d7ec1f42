// The 412 dialog: someone saved the parcel after this page loaded it. It shows, field by
// field, the state the user started from, the state saved now and the user's own change,
// and lets the user apply the change again (with the new ETag) or discard it and reload.

import { request } from "./api.js";
import { FIELDS } from "./edit_form.js";
import { dateDe, decimal, el, label } from "./ui.js";

/** Fields compared besides the editable ones (other writers may change them too). */
const OTHER_FIELDS = [
  { name: "marketing_status", label: "Vermarktungsstand", vocab: "marketing_status" },
  { name: "last_verified_at", label: "Zuletzt geprüft", type: "datetime" },
  { name: "category", label: "Flächenkategorie", vocab: "category" },
  { name: "site_id", label: "Standort (Nr.)" },
  { name: "external_id", label: "Kennung des Kreises" },
  { name: "max_building_height_m", label: "Max. Gebäudehöhe (m)", type: "number" },
  { name: "broadband_mbps", label: "Breitband (Mbit/s)", type: "number" },
  { name: "grid_capacity_mw", label: "Netzanschluss (MW)", type: "number" },
  { name: "public_fields", label: "Öffentlich sichtbare Angaben" },
  { name: "geometry", label: "Umriss", type: "geometry" },
];
const COMPARED = [...FIELDS, ...OTHER_FIELDS];

const DATETIME = new Intl.DateTimeFormat("de-DE", { dateStyle: "medium", timeStyle: "short" });

/** A value as the dialog shows it. */
function shown(field, value) {
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return "(leer)";
  if (field.type === "geometry") return "Umriss";
  if (field.type === "bool" || typeof value === "boolean") return value ? "ja" : "nein";
  if (field.type === "date") return dateDe(value);
  if (field.type === "datetime") return DATETIME.format(new Date(value));
  if (field.type === "number") return decimal(value, 4);
  if (Array.isArray(value)) return value.map((v) => (field.vocab ? label(field.vocab, v) : v)).join(", ");
  if (field.vocab) return label(field.vocab, value);
  return String(value);
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function rows(before, current, mine) {
  const result = [];
  for (const field of COMPARED) {
    const meanwhile = !same(before[field.name], current[field.name]);
    const changedByMe = Object.hasOwn(mine, field.name);
    if (!meanwhile && !changedByMe) continue;
    const clash = meanwhile && changedByMe && !same(mine[field.name], current[field.name]);
    let currentText = shown(field, current[field.name]);
    if (field.type === "geometry" && meanwhile) currentText = "Umriss geändert";
    result.push(el("tr", { "data-field": field.name,
      class: [meanwhile ? "meanwhile" : "", clash ? "clash" : ""].join(" ").trim() || undefined },
    el("th", { scope: "row" }, field.label,
      meanwhile ? el("span", { class: "conflict-flag" }, " (inzwischen geändert)") : null),
    el("td", { "data-column": "before" }, shown(field, before[field.name])),
    el("td", { "data-column": "current" }, currentText),
    el("td", { "data-column": "mine" }, changedByMe ? shown(field, mine[field.name]) : "–")));
  }
  // meanwhile changes first, the user's own after them
  return result.sort((a, b) => Number(b.classList.contains("meanwhile")) - Number(a.classList.contains("meanwhile")));
}

/**
 * Open the conflict dialog for the parcel the user edited (`before`: as the page loaded it;
 * `mine`: the fields the user's action would set, for the table; `what`: the action in
 * words). Fetches the parcel as saved now. `onApply(current, etag)` is called to send the
 * change again, `onDiscard()` to drop it; Escape or "Zurück" just close the dialog.
 */
export async function openConflict({ before, mine, what, onApply, onDiscard }) {
  const { data: current, response } = await request(`parcels/${before.id}`);
  const etag = response.headers.get("ETag");
  const dialog = document.getElementById("conflict-dialog");
  const table = rows(before, current, mine);
  const close = () => dialog.close();
  const apply = el("button", { type: "button", id: "conflict-apply", class: "primary",
    onclick: () => { close(); onApply(current, etag); } }, "Meine Änderung erneut anwenden");
  const discard = el("button", { type: "button", id: "conflict-discard",
    onclick: () => { close(); onDiscard(); } }, "Verwerfen und neu laden");
  const back = el("button", { type: "button", id: "conflict-back", onclick: close }, "Zurück");
  dialog.replaceChildren(
    el("h2", { id: "conflict-title" }, "Die Fläche wurde inzwischen geändert"),
    el("p", { id: "conflict-description" },
      `Seit Sie „${before.name || `Fläche ${before.id}`}“ geöffnet haben, hat jemand anderes sie gespeichert. `,
      `Ihre Aktion („${what}“) wurde deshalb nicht ausgeführt. `,
      "Erneut anwenden speichert nur Ihre eigenen Änderungen auf dem jetzigen Stand."),
    table.length
      ? el("div", { class: "conflict-scroll" }, el("table", { class: "conflict-table" },
        el("caption", {}, "Unterschiede"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Feld"),
          el("th", { scope: "col" }, "Ihr Stand"), el("th", { scope: "col" }, "Jetzt gespeichert"),
          el("th", { scope: "col" }, "Ihre Änderung"))),
        el("tbody", {}, table)))
      : el("p", {}, "Geändert wurden nur Angaben, die hier nicht angezeigt werden."),
    el("div", { class: "dialog-buttons" }, apply, discard, back));
  dialog.setAttribute("aria-describedby", "conflict-description");
  dialog.tabIndex = -1;
  dialog.dataset.etag = etag || "";
  if (!dialog.open) dialog.showModal();
  dialog.focus();
}

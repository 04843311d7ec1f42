// The forms of the editing: a parcel's attributes (sent as a merge patch of the changed
// fields only) and the report of a sale. Inputs are labelled; the service's field errors
// (422) are shown at the fields they name.

import { el, terms } from "./ui.js";

/** The editable attributes, in sections: {name, label, type, vocab?, nullable?}. */
export const SECTIONS = [
  ["Bezeichnung und Verfügbarkeit", [
    { name: "name", label: "Bezeichnung", type: "text", max: 200 },
    { name: "availability", label: "Zeitliche Verfügbarkeit", type: "select", vocab: "availability" },
    { name: "available_from", label: "Verfügbar ab", type: "date" },
  ]],
  ["Verwertungsbeschränkung und Eignung", [
    { name: "restriction_level", label: "Verwertungsbeschränkung", type: "select", vocab: "restriction_level" },
    { name: "restriction_causes", label: "Ursachen der Beschränkung", type: "checks", vocab: "restriction_cause" },
    { name: "user_groups", label: "Geeignet für (mindestens eine Nutzergruppe)", type: "checks", vocab: "user_group" },
  ]],
  ["Planung und Erschließung", [
    { name: "planning_status", label: "Planungsstand", type: "select", vocab: "planning_status" },
    { name: "zoning", label: "Gebietstyp", type: "select", vocab: "zoning" },
    { name: "servicing", label: "Erschließung", type: "select", vocab: "servicing" },
  ]],
  ["Größe, Preis und Ausstattung", [
    { name: "net_area_ha", label: "Nettofläche (ha)", type: "number" },
    { name: "price_eur_m2", label: "Preis (€/m²)", type: "number" },
    { name: "rail_siding", label: "Gleisanschluss", type: "bool" },
    { name: "operation_24h", label: "24-Stunden-Betrieb", type: "bool" },
  ]],
  ["Kontakt und Eigentümer", [
    { name: "contact_name", label: "Ansprechperson", type: "text", max: 200 },
    { name: "contact_email", label: "E-Mail der Ansprechperson", type: "email", max: 200 },
    { name: "contact_phone", label: "Telefon der Ansprechperson", type: "tel", max: 50 },
    { name: "owner_type", label: "Eigentümer (Art)", type: "select", vocab: "owner_type", nullable: true },
    { name: "owner_name", label: "Eigentümer (Name)", type: "text", max: 200 },
  ]],
  ["Intern", [
    { name: "internal_notes", label: "Interne Notizen (nur für Mitarbeitende)", type: "textarea", max: 5000 },
  ]],
];

/** Every editable attribute: {name, label, type, vocab?}. */
export const FIELDS = SECTIONS.flatMap(([, fields]) => fields);

/** The longest change reason in characters (the header takes 500 bytes of UTF-8). */
const REASON_MAX = 160;

function errorSlot(id) {
  return el("p", { id: `${id}-error`, class: "field-error", hidden: true });
}

function inputFor(field, value, prefix) {
  const id = `${prefix}-${field.name}`;
  const described = `${id}-error`;
  const common = { id, name: field.name, "aria-describedby": described };
  switch (field.type) {
    case "select": {
      const options = terms(field.vocab).map((t) =>
        el("option", { value: t.code, selected: t.code === value }, t.label));
      const empty = field.nullable || field.required
        ? el("option", { value: "", selected: value === null || value === undefined },
          field.required ? "– bitte wählen –" : "– nicht angegeben –") : null;
      return el("select", common, empty, options);
    }
    case "checks":
      return el("fieldset", { id, class: "checks edit-checks", "aria-describedby": described },
        el("legend", {}, field.label),
        terms(field.vocab).map((t) => el("label", {},
          el("input", { type: "checkbox", name: field.name, value: t.code,
            checked: (value || []).includes(t.code) }), ` ${t.label}`)));
    case "bool":
      return el("input", { ...common, type: "checkbox", checked: Boolean(value) });
    case "number":
      return el("input", { ...common, type: "number", inputmode: "decimal", step: "any", min: "0",
        value: value === null || value === undefined ? "" : String(Number(Number(value).toFixed(4))) });
    case "textarea":
      return el("textarea", { ...common, rows: "3", maxlength: String(field.max) }, value || "");
    default:
      return el("input", { ...common, type: field.type, value: value || "",
        maxlength: field.max ? String(field.max) : undefined,
        autocomplete: "off" });
  }
}

function fieldBox(field, value, prefix) {
  const id = `${prefix}-${field.name}`;
  const input = inputFor(field, value, prefix);
  if (field.type === "checks") {
    return el("div", { class: "edit-field wide", "data-field": field.name }, input, errorSlot(id));
  }
  if (field.type === "bool") {
    return el("div", { class: "edit-field check", "data-field": field.name },
      el("label", { for: id }, input, ` ${field.label}`), errorSlot(id));
  }
  return el("div", { class: `edit-field${field.type === "textarea" ? " wide" : ""}`, "data-field": field.name },
    el("label", { for: id }, field.label), input, errorSlot(id));
}

function reasonBox(prefix) {
  const id = `${prefix}-reason`;
  return el("div", { class: "edit-field wide" },
    el("label", { for: id }, "Grund der Änderung (optional, erscheint im Verlauf)"),
    el("input", { id, name: "reason", type: "text", maxlength: String(REASON_MAX), autocomplete: "off" }));
}

/** The value a field's input stands for (JSON), or throws {field, reason} when unreadable. */
function readField(form, field) {
  if (field.type === "checks") {
    return [...form.querySelectorAll(`input[name="${field.name}"]:checked`)].map((i) => i.value);
  }
  const input = form.elements.namedItem(field.name);
  if (field.type === "bool") return input.checked;
  if (field.type === "number") {
    if (input.validity.badInput) throw { field: field.name, reason: "Bitte eine Zahl eingeben." };
    return input.value === "" ? null : Number(input.value);
  }
  const text = input.value.trim();
  return text === "" ? null : text;
}

function readFields(form, fields) {
  const values = {};
  const problems = [];
  for (const field of fields) {
    try {
      values[field.name] = readField(form, field);
    } catch (problem) {
      problems.push(problem);
    }
  }
  return { values, problems };
}

/**
 * The edit form of `parcel`. `changes()` gives {changes, problems}: the fields whose value
 * differs from the one the form was opened with (a merge patch), and local problems.
 */
export function buildEditForm(parcel) {
  const form = el("form", { id: "edit-form", class: "edit-form", novalidate: true },
    el("p", { id: "edit-form-error", class: "form-error", role: "alert" }),
    SECTIONS.map(([heading, fields]) => el("fieldset", { class: "edit-section" },
      el("legend", {}, heading), fields.map((f) => fieldBox(f, parcel[f.name], "edit")))),
    reasonBox("edit"));
  const initial = JSON.stringify(readFields(form, FIELDS).values);
  const opened = JSON.parse(initial);
  const changes = () => {
    const { values, problems } = readFields(form, FIELDS);
    const changed = {};
    for (const field of FIELDS) {
      if (JSON.stringify(values[field.name]) !== JSON.stringify(opened[field.name])) {
        changed[field.name] = values[field.name];
      }
    }
    return { changes: changed, problems };
  };
  return { form, changes };
}

/** Fields of the sale report (SaleInput). */
const SALE_FIELDS = [
  { name: "sale_date", label: "Verkauft am", type: "date" },
  { name: "buyer_user_group", label: "Nutzergruppe des Käufers", type: "select", vocab: "user_group", required: true },
  { name: "buyer_origin", label: "Herkunft des Käufers", type: "select", vocab: "buyer_origin", nullable: true },
  { name: "price_eur_m2", label: "Kaufpreis (€/m²)", type: "number" },
  { name: "area_ha", label: "Verkaufte Fläche (ha; leer: die Nettofläche)", type: "number" },
];

/** The sale report of `parcel`; `body()` gives {body, problems} (empty fields left out). */
export function buildSaleForm(parcel) {
  const today = new Date().toLocaleDateString("sv-SE");  // YYYY-MM-DD in local time
  const preset = { sale_date: today, price_eur_m2: parcel.price_eur_m2 };
  const form = el("form", { id: "sale-form", class: "edit-form", novalidate: true },
    el("p", { id: "sale-form-error", class: "form-error", role: "alert" }),
    el("fieldset", { class: "edit-section" }, el("legend", {}, "Verkauf"),
      SALE_FIELDS.map((f) => fieldBox(f, preset[f.name], "sale"))),
    reasonBox("sale"));
  const body = () => {
    const { values, problems } = readFields(form, SALE_FIELDS);
    return { body: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null)), problems };
  };
  return { form, body };
}

/** The change reason of a form as an X-Change-Reason header (UTF-8 bytes; none if empty). */
export function reasonHeaders(form) {
  const input = form.elements.namedItem("reason");
  const text = input ? input.value.trim() : "";
  // header values are byte strings: send the UTF-8 bytes, the service decodes them as UTF-8
  return text ? { "X-Change-Reason": String.fromCharCode(...new TextEncoder().encode(text)) } : {};
}

/** Remove every error shown in `form`. */
export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  form.querySelector(".form-error").textContent = "";
}

/** A German sentence for a field error of the service ({field, reason, code}). */
function fieldReason({ field, reason, code }) {
  switch (code) {
    case "string_pattern_mismatch":
      return String(field).includes("email") ? "Keine gültige E-Mail-Adresse (Form: name@beispiel.de)."
        : "Ungültiges Format.";
    case "too_short": return "Bitte mindestens einen Eintrag wählen.";
    case "string_too_long": case "too_long": return "Zu lang.";
    case "missing": return "Bitte angeben.";
    case "not_above_gross": return "Die Nettofläche darf nicht größer als die Bruttofläche sein.";
    case undefined: return reason;  // found by the page itself, already German
    default: return `Nicht zulässig (${reason}).`;
  }
}

/**
 * Show `message` above the form and each of `errors` ([{field, reason}]) at its field;
 * errors of fields the form does not have go into the message. Focuses the first field.
 */
export function showErrors(form, message, errors = []) {
  const prefix = form.id === "sale-form" ? "sale" : "edit";
  const elsewhere = [];
  let first = null;
  for (const error of errors) {
    const { field } = error;
    const reason = fieldReason(error);
    const name = String(field || "").split(".")[0];
    const target = name ? form.querySelector(`#${prefix}-${name}`) : null;
    const slot = name ? form.querySelector(`#${prefix}-${name}-error`) : null;
    if (!target || !slot) {
      elsewhere.push(field ? `${field}: ${reason}` : reason);
      continue;
    }
    slot.textContent = slot.textContent ? `${slot.textContent} ${reason}` : reason;
    slot.hidden = false;
    target.setAttribute("aria-invalid", "true");
    first = first || target;
  }
  form.querySelector(".form-error").textContent =
    [message, ...elsewhere].filter(Boolean).join(" ");
  const focusable = first && (first.matches("fieldset") ? first.querySelector("input") : first);
  if (focusable) focusable.focus();
  else form.querySelector(".form-error").scrollIntoView({ block: "nearest" });
}

// The investor matching panel (#panel-match, tab "Investorenanfrage"): an investor's enquiry
// as a form for POST /api/v1/matches, the ranked parcels with the API's German reasons (see
// matching_results.js), all of them outlined on the map. Staff who may write (editors,
// admins: the API refuses others) can save the request as an enquiry.

import { ApiError, request } from "./api.js";
import { getPrincipal, onPrincipalChange } from "./auth.js";
import {
  clearOutlines, markCurrent, renderAnswer, renderSaved, showAnswerOnMap, showOutlines,
} from "./matching_results.js";
import { FILTER_KEYS, filterParams, getState, onStateChange, setState } from "./state.js";
import { dateDe, el, showError, showStatus, terms } from "./ui.js";

/** German names of the request's fields (for the form and for the API's field errors). */
const LABELS = {
  user_group: "Nutzergruppe",
  net_area_min_ha: "Nettofläche mindestens (ha)",
  net_area_max_ha: "Nettofläche höchstens (ha)",
  needed_by: "Benötigt bis",
  max_junction_km: "Autobahnanschluss höchstens (km)",
  restriction_tolerance: "Verwertungsbeschränkung höchstens",
  rail_siding_required: "Gleisanschluss erforderlich",
  operation_24h_required: "24-Stunden-Betrieb erforderlich",
  preferred_districts: "Bevorzugte Kreise",
  limit: "Anzahl Flächen höchstens",
  save_enquiry: "Anfrage speichern",
};
const NUMBERS = ["net_area_min_ha", "net_area_max_ha", "max_junction_km", "limit"];
/** Roles the API lets save an enquiry (app.services.matching.ensure_may_save). */
const SAVING_ROLES = ["editor", "admin"];

const parts = {};
let controller;
let lastBody = null;   // the request of the results shown (never with save_enquiry)
let open = false;      // the tab is shown

function number(name, attrs = {}) {
  const id = `match-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, LABELS[name]),
    el("input", { id, name, type: "number", inputmode: "decimal", step: "any", min: "0", ...attrs }));
}

function select(name, options, attrs = {}) {
  const id = `match-${name}`;
  return el("div", { class: "field" }, el("label", { for: id }, LABELS[name]),
    el("select", { id, name, ...attrs }, options.map((o) =>
      el("option", { value: o.code, selected: o.selected }, o.label))));
}

function check(name, text = LABELS[name]) {
  return el("label", {}, el("input", { type: "checkbox", id: `match-${name}`, name, value: "true" }), ` ${text}`);
}

function districtChecks(districts) {
  return districts.map((d) => el("label", {},
    el("input", { type: "checkbox", name: "preferred_districts", value: d.code }), ` ${d.label}`));
}

function buildForm(districts) {
  const tolerance = terms("restriction_level").filter((t) => t.code !== "unbekannt")
    .map((t) => ({ ...t, selected: t.code === "gering" }));
  parts.saveBox = el("div", { class: "match-save", id: "match-save-box", hidden: true },
    check("save_enquiry"),
    el("p", { class: "match-hint", id: "match-save-hint" },
      "Die Anfrage wird als Ansiedlungsanfrage erfasst (Ergebnis „offen“, ohne Treffer „kein Angebot“)."));
  parts.error = el("div", { id: "match-error", class: "match-error", role: "alert" });
  const form = el("form", { id: "match-form", class: "filters match-form", novalidate: true,
    "aria-labelledby": "match-title", onsubmit: submit, onreset: reset },
  el("fieldset", { class: "match-group" }, el("legend", {}, "Bedarf"),
    select("user_group", [{ code: "", label: "bitte wählen" }, ...terms("user_group")],
      { required: true }),
    el("div", { class: "field-row" },
      number("net_area_min_ha", { required: true }), number("net_area_max_ha")),
    el("div", { class: "field" }, el("label", { for: "match-needed_by" }, LABELS.needed_by),
      el("input", { id: "match-needed_by", name: "needed_by", type: "date" }))),
  el("fieldset", { class: "match-group" }, el("legend", {}, "Lage und Ausstattung"),
    number("max_junction_km", { max: "1000" }),
    select("restriction_tolerance", tolerance),
    el("fieldset", { class: "checks" }, el("legend", {}, "Ausstattung"),
      check("rail_siding_required", "Gleisanschluss"), check("operation_24h_required", "24-Stunden-Betrieb"))),
  el("fieldset", { class: "checks match-districts", id: "match-districts" },
    el("legend", {}, LABELS.preferred_districts), districtChecks(districts)),
  number("limit", { min: "1", max: "50", step: "1", value: "10", inputmode: "numeric" }),
  parts.saveBox,
  parts.error,
  el("div", { class: "form-buttons" },
    el("button", { type: "submit", id: "match-submit" }, "Passende Flächen suchen"),
    el("button", { type: "reset", id: "match-reset" }, "Zurücksetzen")));
  return form;
}

function buildPanel(districts) {
  const panel = document.getElementById("panel-match");
  parts.form = buildForm(districts);
  parts.saved = el("div", { id: "match-saved", class: "match-saved", "aria-live": "polite" });
  parts.note = el("p", { id: "match-map-note", class: "match-note", hidden: true });
  parts.count = el("p", { id: "match-count", class: "result-count", "aria-live": "polite" });
  parts.list = el("ol", { id: "match-list", class: "match-list", "aria-label": "Passende Flächen", hidden: true });
  parts.combos = el("section", { id: "match-combinations", hidden: true });
  parts.results = el("div", { class: "match-results" },
    parts.count, parts.saved, parts.note, parts.list, parts.combos);
  panel.replaceChildren(
    el("h2", { class: "match-title", id: "match-title" }, "Investorenanfrage"),
    el("p", { class: "match-intro" }, "Welche verfügbaren Flächen passen zum Bedarf eines Investors? ",
      "Die Treffer werden nach Eignung gereiht und auf der Karte umrandet."),
    parts.form, parts.results);
  panel.dataset.matchState = "idle";
}

function field(name) {
  return parts.form.elements.namedItem(name);
}

/** The request of the form, or null after marking what is missing or wrong. */
function readBody() {
  const problems = [];
  const body = { user_group: field("user_group").value };
  if (!body.user_group) problems.push(["user_group", "Bitte eine Nutzergruppe wählen."]);
  for (const name of NUMBERS) {
    const input = field(name);
    if (input.validity.badInput) {
      problems.push([name, "Bitte eine Zahl eingeben."]);
      continue;
    }
    if (input.value.trim() === "") continue;
    const value = Number(input.value);
    if (name === "limit" && !(Number.isInteger(value) && value >= 1 && value <= 50)) {
      problems.push([name, "Bitte eine ganze Zahl von 1 bis 50 eingeben."]);
    } else if (name === "max_junction_km" && !(value >= 0 && value <= 1000)) {
      problems.push([name, "Bitte eine Entfernung von 0 bis 1000 km eingeben."]);
    } else if (name.startsWith("net_area") && !(value > 0)) {
      problems.push([name, "Bitte eine Fläche größer als 0 ha eingeben."]);
    } else body[name] = value;
  }
  if (field("net_area_min_ha").value.trim() === "" && !field("net_area_min_ha").validity.badInput) {
    problems.push(["net_area_min_ha", "Bitte die benötigte Mindestfläche angeben."]);
  }
  if (field("needed_by").value) body.needed_by = field("needed_by").value;
  body.restriction_tolerance = field("restriction_tolerance").value;
  body.rail_siding_required = field("rail_siding_required").checked;
  body.operation_24h_required = field("operation_24h_required").checked;
  body.preferred_districts = [...parts.form.querySelectorAll("input[name=preferred_districts]:checked")]
    .map((i) => i.value);
  body.save_enquiry = !parts.saveBox.hidden && field("save_enquiry").checked;
  if (problems.length) {
    showProblems("Bitte die markierten Angaben prüfen:", problems);
    return null;
  }
  return body;
}

function clearProblems() {
  parts.error.replaceChildren();
  for (const message of parts.form.querySelectorAll(".match-field-error")) message.remove();
  for (const input of parts.form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-errormessage");
    input.removeAttribute("aria-describedby");
  }
  updateSaveHint();
}

/** The control of field `name` (the first one of a group). */
function control(name) {
  return name ? parts.form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
}

/** Show `problems` ([field, German text]) in the panel (role="alert") and next to each
 * field, which is marked invalid; the first such field gets the focus. */
function showProblems(heading, problems) {
  const items = problems.map(([name, text]) => {
    const target = control(name);
    if (target) {
      const id = `match-${name}-error`;
      const box = target.closest(".field") || target.closest("fieldset");
      if (!document.getElementById(id)) box.append(el("p", { class: "match-field-error", id }, text));
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-errormessage", id);
      target.setAttribute("aria-describedby", id);
    }
    return el("li", { "data-field": name || "" }, name && LABELS[name] ? `${LABELS[name]}: ${text}` : text);
  });
  parts.error.replaceChildren(el("p", {}, heading), items.length ? el("ul", {}, items) : null);
  const first = problems.map(([name]) => control(name)).find(Boolean);
  if (first) first.focus();
}

/** Known reasons of the API's field errors in German (others are shown as sent). */
function reasonDe(error) {
  const reason = error.reason || "";
  if (/must not be below net_area_min_ha/.test(reason)) return "darf nicht kleiner als die Mindestfläche sein.";
  if (/unknown district/.test(reason)) return `unbekannter Kreis (${reason.replace(/^.*:\s*/, "")}).`;
  return `vom Dienst abgelehnt: ${reason}`;
}

function fieldOf(error) {
  const path = String(error.field || "").split(".");
  return path.find((p) => p in LABELS) || null;
}

function showFailure(error) {
  if (!(error instanceof ApiError)) {
    showProblems(`Die Suche ist fehlgeschlagen: ${error}`, []);
  } else if (error.status === 422) {
    const found = (error.problem.errors || []).map((e) => [fieldOf(e), reasonDe(e)]);
    const problems = found.length ? found : [[null, error.problem.detail || "ungültige Angaben"]];
    showProblems("Der Dienst hat die Anfrage abgelehnt. Bitte die markierten Angaben prüfen:", problems);
    const summary = problems.map(([name, text]) => (LABELS[name] ? `${LABELS[name]}: ${text}` : text));
    showError({ messageDe: `Investorenanfrage abgelehnt (Fehler 422): ${summary.join("; ")}` });
    return;
  } else if (error.status === 503) {
    showProblems("Der Dienst ist ausgelastet oder die Datenbank nicht erreichbar. Bitte in einer Minute erneut suchen.", []);
  } else if (error.status === 0) {
    showProblems("Keine Verbindung zum Dienst. Bitte die Netzverbindung prüfen und erneut suchen.", []);
  } else if (error.status === 401 || error.status === 403) {
    showProblems(`${error.messageDe} Die Anfrage kann mit diesem Zugang nicht gespeichert werden.`, []);
  } else {
    showProblems(error.messageDe, []);
  }
  showError(error);
}

function clearResults() {
  lastBody = null;
  clearOutlines();
  parts.count.textContent = "";
  delete parts.count.dataset.count;
  parts.saved.replaceChildren();
  parts.list.replaceChildren();
  parts.list.hidden = true;
  parts.combos.replaceChildren();
  parts.combos.hidden = true;
  parts.note.hidden = true;
}

/** Scroll the panel (only the panel: not the page) so that the result count is in view. */
function revealCount() {
  const panel = document.getElementById("panel-match");
  const offset = parts.count.getBoundingClientRect().top - panel.getBoundingClientRect().top;
  if (offset < 0 || offset > panel.clientHeight - 80) panel.scrollTop += offset - 8;
}

function openParcel(id) {
  setState({ parcel: String(id) }, { push: true });
}

/** Say when the map does not draw every result: the search's filters or a past day apply
 * to its parcels too; offer to lift them. */
function updateNote(state = getState()) {
  const filtered = [...filterParams(state)].length > 0;
  if (!lastBody || !(filtered || state.at)) {
    parts.note.hidden = true;
    return;
  }
  const lift = { ...(filtered ? Object.fromEntries(FILTER_KEYS.map((k) => [k, undefined])) : {}),
    ...(state.at ? { at: undefined } : {}) };
  const action = [filtered ? "Suchfilter aufheben" : null, state.at ? "heutigen Stand zeigen" : null]
    .filter(Boolean).join(", ");
  parts.note.replaceChildren(
    filtered ? "Die Filter der Suche gelten auch für die Karte; nicht jede passende Fläche ist dort zu sehen. " : "",
    state.at ? `Die Karte zeigt den Stand vom ${dateDe(state.at)}, die Treffer den heutigen. ` : "",
    el("button", { type: "button", class: "link", id: "match-clear-filters", onclick: () => setState(lift) },
      action.charAt(0).toUpperCase() + action.slice(1)));
  parts.note.hidden = false;
}

/** Send `body`; `fit` moves the map to the results (not when re-asking after a sign-in). */
async function run(body, { fit = true } = {}) {
  if (controller) controller.abort();
  controller = new AbortController();
  const { signal } = controller;
  const panel = document.getElementById("panel-match");
  panel.dataset.matchState = "loading";
  parts.results.setAttribute("aria-busy", "true");
  let data;
  try {
    ({ data } = await request("matches", { method: "POST", body, signal }));
    clearResults();
    lastBody = { ...body, save_enquiry: false };
    renderAnswer(data, parts, openParcel);
    markCurrent(parts.results, getState().parcel);
    if (data.enquiry_id !== null && data.enquiry_id !== undefined) {
      renderSaved(parts.saved, data.enquiry_id);
      field("save_enquiry").checked = false;  // a second search must not save it again
      showStatus(`Anfrage Nr. ${data.enquiry_id} gespeichert.`);
    }
    updateNote();
    revealCount();
  } catch (error) {
    if (error.name === "AbortError") return;
    clearResults();
    showFailure(error);
    panel.dataset.matchState = "error";
    return;
  } finally {
    if (!signal.aborted) parts.results.removeAttribute("aria-busy");
  }
  try {
    await showAnswerOnMap(data, { fit, visible: open });
  } catch (error) {
    if (error.name === "AbortError") return;
    showProblems("Die Umrisse der Treffer konnten nicht geladen werden; die Karte zeigt sie "
      + "erst beim Hineinzoomen.", []);
    showError(error);
  }
  panel.dataset.matchState = "done";
}

function submit(event) {
  event.preventDefault();
  clearProblems();
  const body = readBody();
  if (body) run(body);
}

function reset() {
  if (controller) controller.abort();
  clearProblems();
  clearResults();
  parts.results.removeAttribute("aria-busy");
  document.getElementById("panel-match").dataset.matchState = "idle";
}

/** The save option's hint (its description also after errors were cleared). */
function updateSaveHint() {
  field("save_enquiry").setAttribute("aria-describedby", "match-save-hint");
}

function updateSaveBox(principal) {
  const may = principal.authenticated && SAVING_ROLES.includes(principal.role);
  parts.saveBox.hidden = !may;
  if (!may) field("save_enquiry").checked = false;
}

/** Build the panel (districts: [{ags, name}], as main.js loaded them) and follow tab,
 * principal and data changes (once, after the map). */
export function initMatching(districts) {
  open = getState().tab === "match";
  buildPanel(districts.map((d) => ({ code: d.ags, label: d.name })));
  updateSaveHint();
  updateSaveBox(getPrincipal());
  onPrincipalChange((principal) => {
    updateSaveBox(principal);
    if (lastBody) run(lastBody, { fit: false });  // the caller may see other parcels now
  });
  onStateChange((state, changed) => {
    if (changed.includes("tab")) {
      open = state.tab === "match";
      showOutlines(open);
    }
    if (changed.includes("parcel")) markCurrent(parts.results, state.parcel);
    if (changed.some((k) => FILTER_KEYS.includes(k) || k === "at")) updateNote(state);
    if (changed.includes("refresh") && lastBody) run(lastBody, { fit: false });
  });
}

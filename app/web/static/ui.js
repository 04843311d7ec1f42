// Small helpers of the page: building elements, German number and date formats, the
// vocabularies' labels and the status line.

import { request } from "./api.js";

/** An element: el("li", {class: "x", onclick: f}, "text", child). Text is never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const NUMBER = new Intl.NumberFormat("de-DE", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const INTEGER = new Intl.NumberFormat("de-DE", { maximumFractionDigits: 0 });

/** "12,3 ha" (one decimal). */
export function ha(value) {
  return value === null || value === undefined ? "–" : `${NUMBER.format(value)} ha`;
}

/** "1.234" */
export function integer(value) {
  return value === null || value === undefined ? "–" : INTEGER.format(value);
}

/** A decimal with German separators and `digits` fraction digits. */
export function decimal(value, digits = 1) {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat("de-DE", { maximumFractionDigits: digits }).format(value);
}

/** "31.12.2020" from an ISO date or date-time. */
export function dateDe(iso) {
  if (!iso) return "–";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}.${m}.${y}`;
}

let vocabularies = {};

/** Load the vocabularies once (GET /api/v1/vocabularies). */
export async function loadVocabularies() {
  const { data } = await request("vocabularies");
  vocabularies = data;
  return data;
}

/** The terms of a vocabulary: [{code, label, description}]. */
export function terms(name) {
  return (vocabularies[name] && vocabularies[name].terms) || [];
}

/** The German label of a code (the code itself when unknown). */
export function label(name, code) {
  const term = terms(name).find((t) => t.code === code);
  return term ? term.label : code;
}

/** The title of a vocabulary ("Zeitliche Verfügbarkeit"). */
export function vocabularyTitle(name) {
  return (vocabularies[name] && vocabularies[name].title) || name;
}

let statusTimer;

/** Show a message in the status line (read by screen readers); errors stay until replaced. */
export function showStatus(message, { error = false } = {}) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.classList.toggle("error", error);
  status.hidden = !message;
  window.clearTimeout(statusTimer);
  if (message && !error) statusTimer = window.setTimeout(() => showStatus(""), 6000);
}

/** Show what went wrong with a request (ApiError or anything else). */
export function showError(error) {
  if (error && error.name === "AbortError") return;
  showStatus(error && error.messageDe ? error.messageDe : `Fehler: ${error}`, { error: true });
}

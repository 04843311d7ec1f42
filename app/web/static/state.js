// The page's state lives in the URL fragment (#district=14713&at=2020-12-31&parcel=7):
// a link sent to a colleague opens the same view. Filters use the API's own parameter
// names, so the fragment reads like the API request it stands for.

/** Keys that select parcels (registry filters of GET /api/v1/parcels and the tiles). */
export const FILTER_KEYS = [
  "district", "user_group", "availability", "restriction_max", "marketing_status",
  "net_area_min_ha", "net_area_max_ha", "max_junction_km", "rail_siding", "operation_24h", "q",
];
/** Keys with several values (repeated in the API request). */
export const LIST_KEYS = new Set(["district", "user_group", "availability", "marketing_status"]);
/** Every key the page keeps: filters, day shown, open parcel, open panel, map position. */
export const STATE_KEYS = [...FILTER_KEYS, "at", "parcel", "tab", "map"];

const listeners = [];
let current = parse(window.location.hash);

/** The state of a fragment: lists for LIST_KEYS, strings otherwise, absent when empty. */
export function parse(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = {};
  for (const key of STATE_KEYS) {
    const values = params.getAll(key).flatMap((v) => v.split(",")).filter((v) => v !== "");
    if (values.length === 0) continue;
    state[key] = LIST_KEYS.has(key) ? values : values[0];
  }
  return state;
}

/** The fragment of a state (keys in a fixed order, lists comma-separated). */
export function format(state) {
  const params = new URLSearchParams();
  for (const key of STATE_KEYS) {
    const value = state[key];
    if (value === undefined || value === null || value === "" ||
        (Array.isArray(value) && value.length === 0)) continue;
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  return params.toString();
}

/** The current state (a copy). */
export function getState() {
  return structuredClone(current);
}

/** Merge `patch` into the state (undefined or empty removes a key), write the fragment and
 * tell the listeners which keys changed. `push` makes a new history entry (back button). */
export function setState(patch, { push = false } = {}) {
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === null || value === "" ||
        (Array.isArray(value) && value.length === 0)) delete next[key];
    else next[key] = value;
  }
  const changed = changedKeys(current, next);
  if (changed.length === 0) return;
  current = next;
  const url = `${window.location.pathname}${window.location.search}#${format(next)}`;
  if (push) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
  notify(changed);
}

/** Call `listener(state, changedKeys)` after every change. */
export function onStateChange(listener) {
  listeners.push(listener);
}

/** The registry filter of the state as API query parameters (lists repeated). */
export function filterParams(state = current) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = state[key];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  return params;
}

function changedKeys(before, after) {
  return STATE_KEYS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

function notify(changed) {
  const state = getState();
  for (const listener of listeners) listener(state, changed);
}

window.addEventListener("hashchange", () => {
  const next = parse(window.location.hash);
  const changed = changedKeys(current, next);
  current = next;
  if (changed.length) notify(changed);
});

/** Tell every listener that the data changed (after an edit): changed keys ["refresh"]. */
export function refresh() {
  notify(["refresh"]);
}

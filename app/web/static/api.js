// Requests to the service: the API key (if one was entered) as a Bearer token, problem+json
// answers turned into ApiError with a German message, network failures told apart.

const KEY_STORAGE = "gefis.apiKey";
const config = JSON.parse(document.getElementById("gefis-config").textContent);

/** The page's configuration (from the service; see app/services/web_map.py). */
export function getConfig() {
  return config;
}

/** The API key of this browser tab (session storage only: never in the URL). */
export function apiKey() {
  return window.sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key) {
  if (key) window.sessionStorage.setItem(KEY_STORAGE, key);
  else window.sessionStorage.removeItem(KEY_STORAGE);
}

/** An answer of the service that is not a success, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** A German sentence for the page. */
  get messageDe() {
    if (this.status === 0) return "Der Dienst antwortet nicht. Bitte später erneut versuchen.";
    if (this.status === 401) return "Der API-Schlüssel ist ungültig oder abgelaufen.";
    if (this.status === 403) return "Dafür fehlt die Berechtigung.";
    if (this.status === 404) return "Nicht gefunden (oder nicht öffentlich).";
    if (this.status === 412) return "Der Datensatz wurde inzwischen geändert.";
    if (this.status === 503) return "Der Dienst ist ausgelastet oder die Datenbank nicht erreichbar.";
    const fields = (this.problem.errors || []).map((e) => `${e.field}: ${e.reason}`).join("; ");
    return `Fehler ${this.status}: ${this.problem.detail || this.problem.title || ""}` +
      (fields ? ` (${fields})` : "");
  }
}

/** Headers of a request to the service, with the key when one is set. */
export function authHeaders(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : { ...extra };
}

/** Whether `url` is one of the service's own (only those get the key). */
export function isServiceUrl(url) {
  return new URL(url, window.location.href).origin === new URL(config.base, window.location.href).origin;
}

/**
 * Send a request to `path` (relative to /api/v1 unless it starts with "/" or "http").
 * Resolves to {data, response}; rejects with ApiError.
 */
export async function request(path, { method = "GET", params, body, headers = {}, signal } = {}) {
  let url = path.startsWith("http") ? path
    : path.startsWith("/") ? `${config.base}${path}` : `${config.apiBase}/${path}`;
  if (params && [...params].length) url += `${url.includes("?") ? "&" : "?"}${params}`;
  const init = { method, headers: authHeaders({ Accept: "application/json", ...headers }), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { title: "Netzwerkfehler", detail: String(error) });
  }
  if (!response.ok) {
    let problem = { title: response.statusText };
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  const type = response.headers.get("Content-Type") || "";
  const data = response.status === 204 ? null
    : type.includes("json") ? await response.json() : await response.text();
  return { data, response };
}

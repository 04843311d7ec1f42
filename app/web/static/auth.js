// Signing in with an API key: the key is checked (GET /api/v1/me) and kept in the tab's
// session storage only; it never enters the URL. The page reloads its data after a change.

import { ApiError, apiKey, request, setApiKey } from "./api.js";

let principal = { role: "public", districts: [], authenticated: false };
const listeners = [];

/** Who the page acts as: {role, name, districts, authenticated}. */
export function getPrincipal() {
  return principal;
}

/** Whether the caller may edit parcels of district `ags`. */
export function canEdit(ags) {
  return principal.role === "admin" || (principal.role === "editor" && principal.districts.includes(ags));
}

/** Call `listener(principal)` after signing in or out. */
export function onPrincipalChange(listener) {
  listeners.push(listener);
}

async function refresh() {
  const { data } = await request("me");
  principal = data;
  renderAccount();
  for (const listener of listeners) listener(principal);
}

const ROLE_LABELS = { public: "Öffentlicher Zugang", analyst: "Analyse", editor: "Redaktion", admin: "Administration" };

function renderAccount() {
  document.getElementById("account-label").textContent = principal.authenticated
    ? `${principal.name} (${ROLE_LABELS[principal.role] || principal.role}${principal.districts.length ? `: ${principal.districts.join(", ")}` : ""})`
    : ROLE_LABELS.public;
  document.getElementById("sign-in").hidden = principal.authenticated;
  document.getElementById("sign-out").hidden = !principal.authenticated;
}

/** Wire the sign-in dialog; resolves once the stored key (if any) has been checked. */
export async function initAuth() {
  const dialog = document.getElementById("sign-in-dialog");
  const input = document.getElementById("api-key-input");
  const error = document.getElementById("sign-in-error");
  document.getElementById("sign-in").addEventListener("click", () => {
    error.textContent = "";
    input.value = "";
    dialog.showModal();
    input.focus();
  });
  document.getElementById("sign-in-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    try {
      await refresh();
      dialog.close();
    } catch (failure) {
      setApiKey(null);
      error.textContent = failure instanceof ApiError ? failure.messageDe : String(failure);
    }
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    setApiKey(null);
    await refresh();
  });
  if (apiKey()) {
    try {
      await refresh();
      return;
    } catch {
      setApiKey(null);
    }
  }
  renderAccount();
}

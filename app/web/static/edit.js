// Editing for staff: buttons on the parcel card of today's state (admins anywhere, editors in
// their districts). Every write sends If-Match with the ETag the card was loaded with; a 412
// (changed meanwhile) opens the conflict dialog (edit_conflict.js), other errors are shown
// at the fields (422) or in words. After a write the map, list and card are reloaded.

import { request } from "./api.js";
import { canEdit } from "./auth.js";
import { onCardShown } from "./card.js";
import { openConflict } from "./edit_conflict.js";
import {
  FIELDS, buildEditForm, buildSaleForm, clearErrors, reasonHeaders, showErrors,
} from "./edit_form.js";
import { getState, refresh } from "./state.js";
import { el, label, showError, showStatus } from "./ui.js";

let dialog;

/** The dialog holding the edit or sale form (created once, modal, labelled by its title). */
function formDialog() {
  if (!dialog) {
    dialog = el("dialog", { id: "edit-dialog", class: "edit-dialog", "aria-labelledby": "edit-title" });
    document.body.append(dialog);
  }
  return dialog;
}

/** A German sentence for a failed write. */
export function writeErrorText(error) {
  const detail = error.problem && error.problem.detail ? ` (${error.problem.detail})` : "";
  switch (error.status) {
    case 401: return "Nicht gespeichert: Der API-Schlüssel ist ungültig oder abgelaufen. Bitte erneut anmelden.";
    case 403: return "Nicht gespeichert: Sie dürfen Flächen dieses Kreises nicht bearbeiten.";
    case 404: return "Nicht gespeichert: Die Fläche gibt es nicht mehr.";
    case 409: return `Nicht möglich im jetzigen Zustand der Fläche${detail}.`;
    case 422: return "Nicht gespeichert: Bitte die markierten Angaben prüfen.";
    case 428: return "Nicht gespeichert: Der Stand der Fläche fehlte in der Anfrage. Bitte neu laden.";
    default: return `Nicht gespeichert: ${error.messageDe || error}`;
  }
}

/**
 * Send `action.send(etag)`; on success close the form, report and reload map, list and
 * card; on 412 open the conflict dialog; otherwise let `action.fail(error)` show the error.
 * action: {parcel, mine, what, success, send(etag), fail(error), done(), busy(bool)}.
 */
async function perform(action, etag) {
  action.busy(true);
  try {
    await action.send(etag);
    action.done();
    showStatus(action.success);
    refresh();
  } catch (error) {
    if (error.status !== 412) {
      action.fail(error);
      return;
    }
    try {
      await openConflict({
        before: action.parcel, mine: action.mine, what: action.what,
        onApply: (current, newEtag) => perform({ ...action, parcel: current }, newEtag),
        onDiscard: () => {
          action.done();
          showStatus("Ihre Änderung wurde verworfen; die Fläche wurde neu geladen.");
          refresh();
        },
      });
    } catch (failure) {
      action.fail(failure);
    }
  } finally {
    action.busy(false);
  }
}

/** The write `method path` (with `body` and `headers`) for the version `tag`: If-Match. */
function conditional(path, method, body, headers = {}) {
  return (tag) => request(path, { method, body, headers: { ...headers, "If-Match": tag } });
}

function changedNames(changes) {
  return FIELDS.filter((f) => Object.hasOwn(changes, f.name)).map((f) => f.label).join(", ");
}

/** Open a form (edit or sale) in the dialog; `submit(form)` runs on saving. */
function openForm(title, form, submitText, submit) {
  const box = formDialog();
  const save = el("button", { type: "submit", form: form.id, id: `${form.id}-submit` }, submitText);
  const cancel = el("button", { type: "button", id: `${form.id}-cancel`, onclick: () => box.close() }, "Abbrechen");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    submit(form, save);
  });
  box.replaceChildren(el("h2", { id: "edit-title" }, title), form,
    el("div", { class: "dialog-buttons" }, save, cancel));
  box.showModal();
  const first = form.querySelector("input, select, textarea");
  if (first) first.focus();
  return box;
}

function formAction(form, save, base) {
  return {
    ...base,
    busy: (on) => { save.disabled = on; form.setAttribute("aria-busy", String(on)); },
    done: () => dialog.close(),
    fail: (error) => {
      if (!dialog.open) dialog.showModal();  // the conflict dialog may have closed it
      showErrors(form, writeErrorText(error), error.status === 422 && error.problem ? error.problem.errors || [] : []);
    },
  };
}

function openEdit(parcel, etag) {
  const { form, changes } = buildEditForm(parcel);
  openForm(`${parcel.name || `Fläche ${parcel.id}`} bearbeiten`, form, "Speichern", (f, save) => {
    const { changes: patch, problems } = changes();
    if (problems.length) {
      showErrors(f, "Nicht gespeichert: Bitte die markierten Angaben prüfen.", problems);
      return;
    }
    if (!Object.keys(patch).length) {
      showErrors(f, "Sie haben nichts geändert.");
      return;
    }
    const headers = reasonHeaders(f);
    perform(formAction(f, save, {
      parcel, mine: patch, what: "Änderungen speichern",
      success: `Gespeichert: ${changedNames(patch)}.`,
      send: conditional(`parcels/${parcel.id}`, "PATCH", patch, headers),
    }), etag);
  });
}

function openSale(parcel, etag) {
  const { form, body } = buildSaleForm(parcel);
  openForm(`Verkauf von ${parcel.name || `Fläche ${parcel.id}`} melden`, form, "Als verkauft melden", (f, save) => {
    const { body: sale, problems } = body();
    if (problems.length) {
      showErrors(f, "Nicht gemeldet: Bitte die markierten Angaben prüfen.", problems);
      return;
    }
    const headers = reasonHeaders(f);
    perform(formAction(f, save, {
      parcel, mine: { marketing_status: "verkauft" }, what: "Verkauf melden",
      success: "Der Verkauf wurde erfasst; die Fläche ist als verkauft markiert.",
      send: conditional(`parcels/${parcel.id}/sell`, "POST", sale, headers),
    }), etag);
  });
}

/** A one-click action of the card (verify, reserve). */
function quickAction(button, base, etag) {
  perform({
    ...base,
    busy: (on) => { button.disabled = on; button.setAttribute("aria-busy", String(on)); },
    done: () => {},
    fail: (error) => showStatus(writeErrorText(error), { error: true }),
  }, etag);
}

function addActions({ parcel, etag, card }) {
  const box = card.querySelector("#card-actions");
  if (!box || getState().at || !canEdit(parcel.district_ags)) return;
  if (!etag) {
    showError(new Error("Die Fläche kam ohne Versionsangabe (ETag); Bearbeiten ist nicht möglich."));
    return;
  }
  box.dataset.etag = etag;  // the version the buttons write against
  const status = parcel.marketing_status;
  const marketed = status === "verfuegbar" || status === "reserviert";
  const verify = el("button", { type: "button", id: "action-verify",
    title: "Bestätigen, dass die Angaben noch stimmen",
    onclick: () => quickAction(verify, {
      parcel, mine: { last_verified_at: new Date().toISOString() }, what: "Als geprüft markieren",
      success: "Als geprüft markiert.",
      send: conditional(`parcels/${parcel.id}/verify`, "POST"),
    }, etag) }, "Geprüft");
  const next = status === "reserviert" ? "verfuegbar" : "reserviert";
  const reserve = marketed ? el("button", { type: "button", id: "action-reserve",
    onclick: () => quickAction(reserve, {
      parcel, mine: { marketing_status: next },
      what: next === "reserviert" ? "Reservieren" : "Reservierung aufheben",
      success: `Vermarktungsstand: ${label("marketing_status", next)}.`,
      send: conditional(`parcels/${parcel.id}`, "PATCH", { marketing_status: next }),
    }, etag) }, next === "reserviert" ? "Reservieren" : "Reservierung aufheben") : null;
  const group = { role: "group", "aria-label": "Fläche bearbeiten", class: "edit-actions" };
  box.replaceChildren(el("div", group,
    el("button", { type: "button", id: "action-edit", onclick: () => openEdit(parcel, etag) }, "Bearbeiten"),
    verify, reserve,
    marketed ? el("button", { type: "button", id: "action-sell", onclick: () => openSale(parcel, etag) },
      "Als verkauft melden") : null));
}

/** Add the editing buttons to every card drawn from now on. */
export function initEditing() {
  onCardShown(addActions);
}

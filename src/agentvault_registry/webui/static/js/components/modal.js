// Bootstrap dialogs the pages share: a confirmation before something that cannot be undone,
// and the frame any other dialog is built in. Focus stays inside the dialog, Esc closes it,
// and focus returns to whatever opened it.

import { h, icon } from "../core/dom.js";

let dialogCounter = 0;

/**
 * Show a dialog; ``build({labelId, decide})`` returns {title, body, footer} and calls
 * ``decide(value)`` to close it with that outcome. Resolves with the outcome (null on Esc,
 * the close button or a click outside).
 */
export function openModal(build, { focus = null } = {}) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let outcome = null;
    const labelId = `dialog-${++dialogCounter}`;
    const { title, body, footer } = build({
      labelId,
      decide: (value) => {
        outcome = value;
        modal.hide();
      },
    });
    const element = h(
      "div",
      { class: "modal fade", tabindex: "-1", role: "dialog", "aria-modal": "true", "aria-labelledby": labelId },
      h(
        "div",
        { class: "modal-dialog modal-dialog-centered" },
        h(
          "div",
          { class: "modal-content" },
          h(
            "div",
            { class: "modal-header" },
            h("h2", { class: "modal-title h5", id: labelId }, title),
            h("button", { type: "button", class: "btn-close", "data-bs-dismiss": "modal", "aria-label": "Close" }),
          ),
          h("div", { class: "modal-body" }, body),
          h("div", { class: "modal-footer" }, footer),
        ),
      ),
    );
    document.body.append(element);
    const modal = new window.bootstrap.Modal(element);
    if (focus) element.addEventListener("shown.bs.modal", () => element.querySelector(focus)?.focus());
    element.addEventListener("hidden.bs.modal", () => {
      modal.dispose();
      element.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(outcome);
    });
    modal.show();
  });
}

/** Resolves true when the user confirms, false when they cancel or close the dialog. */
export async function confirmAction({ title, body, confirmLabel, confirmIcon = "trash", kind = "danger" }) {
  const decided = await openModal(
    ({ decide }) => ({
      title,
      body: typeof body === "string" ? h("p", { class: "mb-0" }, body) : body,
      footer: [
        h("button", { type: "button", class: "btn btn-outline-secondary", "data-bs-dismiss": "modal" }, "Cancel"),
        h("button", { type: "button", class: `btn btn-${kind}`, dataset: { confirm: "" }, onclick: () => decide(true) }, icon(confirmIcon), " ", confirmLabel),
      ],
    }),
    { focus: "[data-confirm]" },
  );
  return decided === true;
}

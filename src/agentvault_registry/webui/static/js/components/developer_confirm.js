// A question before something that cannot be undone (deleting an agent, revoking a key): a
// Bootstrap modal, so focus stays inside it and Esc cancels, and focus returns to the button
// that asked.

import { h, icon } from "../core/dom.js";

let dialogCounter = 0;

/** Resolves true when the user confirms, false when they cancel or close the dialog. */
export function confirmAction({ title, body, confirmLabel, confirmIcon = "trash", kind = "danger" }) {
  const opener = document.activeElement;
  const titleId = `confirm-title-${++dialogCounter}`;
  const confirm = h("button", { type: "button", class: `btn btn-${kind}`, dataset: { confirm: "" } }, icon(confirmIcon), " ", confirmLabel);
  const element = h(
    "div",
    { class: "modal fade", tabindex: "-1", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId },
    h(
      "div",
      { class: "modal-dialog modal-dialog-centered" },
      h(
        "div",
        { class: "modal-content" },
        h(
          "div",
          { class: "modal-header" },
          h("h2", { class: "modal-title h5", id: titleId }, title),
          h("button", { type: "button", class: "btn-close", "data-bs-dismiss": "modal", "aria-label": "Close" }),
        ),
        h("div", { class: "modal-body" }, body),
        h("div", { class: "modal-footer" }, h("button", { type: "button", class: "btn btn-outline-secondary", "data-bs-dismiss": "modal" }, "Cancel"), confirm),
      ),
    ),
  );
  document.body.append(element);
  const modal = new window.bootstrap.Modal(element);
  return new Promise((resolve) => {
    let confirmed = false;
    confirm.addEventListener("click", () => {
      confirmed = true;
      modal.hide();
    });
    element.addEventListener("shown.bs.modal", () => confirm.focus());
    element.addEventListener("hidden.bs.modal", () => {
      modal.dispose();
      element.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(confirmed);
    });
    modal.show();
  });
}

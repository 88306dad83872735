// What the sign-in, sign-up and password pages share: a centred card with a form whose
// errors the API explains field by field.

import { h } from "../core/dom.js";
import { busy, clearErrors, errorSummary, formValues, showErrors } from "../core/forms.js";

/** A card holding a form; submit(values) runs with the button busy and errors shown. */
export function authCard({ title, intro, fields, submitLabel, submit, footer }) {
  const button = h("button", { type: "submit", class: "btn btn-primary w-100" }, submitLabel);
  const form = h("form", { novalidate: false, "aria-label": title }, errorSummary(), fields, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await busy(button, () => submit(formValues(form), form));
    } catch (error) {
      if (error.name !== "AbortError") showErrors(form, error);
    }
  });
  for (const control of form.elements) {
    control.addEventListener("input", () => control.classList.remove("is-invalid"));
  }
  return h(
    "section",
    { class: "card auth-card shadow-sm" },
    h(
      "div",
      { class: "card-body p-4" },
      h("h1", { class: "h3 mb-2" }, title),
      intro ? h("p", { class: "text-body-secondary" }, intro) : null,
      form,
      footer ? h("div", { class: "mt-3 small" }, footer) : null,
    ),
  );
}

/** A message in place of the form once it has done its work. */
export function doneCard({ title, text, kind = "success", action }) {
  return h(
    "section",
    { class: "card auth-card shadow-sm" },
    h(
      "div",
      { class: "card-body p-4" },
      h("h1", { class: "h3 mb-3" }, title),
      h("div", { class: `alert alert-${kind}`, role: kind === "danger" ? "alert" : "status", "data-outcome": kind }, text),
      action || null,
    ),
  );
}

/** The token a mailed link carries in its fragment (which browsers never send to a server). */
export function tokenFromFragment() {
  const match = /(?:^|[#&])token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  return match ? match[1] : null;
}

/** Where to go after signing in: the page that sent the visitor here, if it is one of ours. */
export function nextPath(query) {
  const next = query.get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/ui/dashboard";
}

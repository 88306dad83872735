// Forms with labelled fields, and the API's 422 field errors shown beside the field they name.

import { h, icon, replaceChildren } from "./dom.js";

let fieldCounter = 0;

/**
 * A labelled form control. kind: "input" (default), "textarea" or "select" (options:
 * [{value, label}]); every other prop goes onto the control (type, required, autocomplete…).
 */
export function field({ name, label, kind = "input", help, options = [], id, ...controlProps }) {
  const controlId = id || `field-${name}-${++fieldCounter}`;
  const feedbackId = `${controlId}-feedback`;
  const helpId = help ? `${controlId}-help` : null;
  const describedBy = [helpId, feedbackId].filter(Boolean).join(" ");
  let control;
  if (kind === "select") {
    control = h(
      "select",
      { id: controlId, name, class: "form-select", "aria-describedby": describedBy, ...controlProps },
      options.map((option) => h("option", { value: option.value, selected: option.selected }, option.label)),
    );
  } else if (kind === "checkbox") {
    control = h("input", { id: controlId, name, type: "checkbox", class: "form-check-input", "aria-describedby": describedBy, ...controlProps });
    return h(
      "div",
      { class: "form-check mb-3" },
      control,
      h("label", { class: "form-check-label", for: controlId }, label),
      help ? h("div", { id: helpId, class: "form-text" }, help) : null,
      h("div", { id: feedbackId, class: "invalid-feedback" }),
    );
  } else {
    control = h(kind, { id: controlId, name, class: "form-control", "aria-describedby": describedBy, ...controlProps });
  }
  return h(
    "div",
    { class: "mb-3" },
    h("label", { class: "form-label", for: controlId }, label),
    control,
    help ? h("div", { id: helpId, class: "form-text" }, help) : null,
    h("div", { id: feedbackId, class: "invalid-feedback" }),
  );
}

/** The form's values by name; checkboxes as booleans, empty strings left out. */
export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if (element.type === "checkbox") values[element.name] = element.checked;
    else if (element.value !== "") values[element.name] = element.value;
  }
  return values;
}

function messagesOf(value) {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => messagesOf(inner).map((text) => (/^\d+$/.test(key) ? text : `${key}: ${text}`)));
  }
  return [];
}

export function clearErrors(form) {
  for (const element of form.querySelectorAll(".is-invalid")) element.classList.remove("is-invalid");
  for (const feedback of form.querySelectorAll(".invalid-feedback")) feedback.textContent = "";
  const summary = form.querySelector("[data-form-errors]");
  if (summary) replaceChildren(summary);
}

/**
 * Show an ApiError on the form: each details entry beside its field ("card.name" finds a
 * control named "card.name", then "card"), the rest in the form's summary. Focuses the first
 * field in error. Returns true when anything could be placed on a field.
 */
export function showErrors(form, error) {
  clearErrors(form);
  const leftover = [];
  let first = null;
  for (const [path, problem] of Object.entries(error.details || {})) {
    const control = controlFor(form, path);
    const texts = messagesOf(problem);
    if (!control) {
      leftover.push(...texts.map((text) => `${path}: ${text}`));
      continue;
    }
    control.classList.add("is-invalid");
    const feedback = document.getElementById(`${control.id}-feedback`);
    if (feedback) feedback.textContent = texts.join(" ");
    first = first || control;
  }
  const summary = form.querySelector("[data-form-errors]");
  if (summary && (leftover.length || !first)) {
    replaceChildren(
      summary,
      h(
        "div",
        { class: "alert alert-danger", role: "alert" },
        icon("exclamation-triangle"),
        " ",
        error.message,
        leftover.length ? h("ul", { class: "mb-0 mt-2" }, leftover.map((text) => h("li", {}, text))) : null,
      ),
    );
  }
  if (first) first.focus();
  return first !== null;
}

function controlFor(form, path) {
  const parts = path.split(".");
  while (parts.length) {
    const control = form.elements.namedItem(parts.join("."));
    if (control && control.id) return control;
    parts.pop();
  }
  return null;
}

/** The place a form shows errors that belong to no single field. */
export function errorSummary() {
  return h("div", { "data-form-errors": "", "aria-live": "assertive" });
}

/** Disable the button and show progress while work runs. */
export async function busy(button, work, label = "Working…") {
  const original = Array.from(button.childNodes);
  button.disabled = true;
  replaceChildren(button, h("span", { class: "spinner-border spinner-border-sm me-2", "aria-hidden": "true" }), label);
  try {
    return await work();
  } finally {
    button.disabled = false;
    replaceChildren(button, original);
  }
}

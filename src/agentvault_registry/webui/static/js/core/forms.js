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
  // Controls that join the form with a form="…" attribute live elsewhere (a table row's cells).
  for (const control of form.elements) {
    control.classList.remove("is-invalid");
    const feedback = control.id ? document.getElementById(`${control.id}-feedback`) : null;
    if (feedback) feedback.textContent = "";
  }
  const summary = form.querySelector("[data-form-errors]");
  if (summary) replaceChildren(summary);
}

/** Path segments that name no field: marshmallow's whole-object errors, the whole document. */
const WHOLE = new Set(["_schema", "_document"]);

/** Nested details as dotted paths: {card: {skills: {0: {name: [..]}}}} → {"card.skills.0.name": [..]}. */
function flatDetails(details, prefix = "", flat = {}) {
  for (const [key, value] of Object.entries(details || {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) flatDetails(value, path, flat);
    else flat[path] = messagesOf(value);
  }
  return flat;
}

/** "skills.0.name: Missing data" for an error placed on the parent field "card". */
function withinField(rest, text) {
  const named = rest.filter((part) => !WHOLE.has(part));
  return named.length ? `${named.join(".")}: ${text}` : text;
}

/**
 * Show an ApiError on the form: each details entry beside its field (nested details are read
 * as dotted paths; "card.skills.0.name" finds a control named so, else "card.skills.0", …,
 * else "card", and then says which part of it is wrong), the rest in the form's summary.
 * Focuses the first field in error. Returns true when anything could be placed on a field.
 */
export function showErrors(form, error) {
  clearErrors(form);
  const leftover = [];
  const placed = new Map();
  for (const [path, texts] of Object.entries(flatDetails(error.details))) {
    const found = controlFor(form, path);
    if (!found) {
      const parts = path.split(".");
      leftover.push(...texts.map((text) => (WHOLE.has(parts[0]) ? withinField(parts.slice(1), text) : `${path}: ${text}`)));
      continue;
    }
    const messages = placed.get(found.control) || [];
    messages.push(...texts.map((text) => withinField(found.rest, text)));
    placed.set(found.control, messages);
  }
  let first = null;
  for (const [control, messages] of placed) {
    control.classList.add("is-invalid");
    const feedback = document.getElementById(`${control.id}-feedback`);
    if (feedback) feedback.textContent = messages.join(" ");
    if (!first || first.compareDocumentPosition(control) & Node.DOCUMENT_POSITION_PRECEDING) first = control;
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
  const rest = [];
  while (parts.length) {
    const control = form.elements.namedItem(parts.join("."));
    if (control && control.id) return { control, rest };
    rest.unshift(parts.pop());
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

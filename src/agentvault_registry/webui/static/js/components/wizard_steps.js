// The register-agent wizard's steps: the section that frames each one and the numbered list
// above the form that shows where the user is, which steps are done and which have errors
// (done steps are buttons that go back to them).

import { h, icon, replaceChildren } from "../core/dom.js";

export const STEPS = ["Starting point", "Details", "Review"];

export function stepSection(index, ...children) {
  return h(
    "section",
    { class: "wizard-section", dataset: { step: String(index) }, "aria-labelledby": `wizard-step-${index}-heading`, hidden: true },
    h("h2", { class: "h4 mb-3", id: `wizard-step-${index}-heading`, tabindex: "-1" }, `${index + 1}. ${STEPS[index]}`),
    children,
  );
}

/** Draws the steps into `list`; `form` (null before it exists) tells which steps have errors. */
export function drawSteps(list, { form, current, go }) {
  const withErrors = new Set(Array.from(form ? form.querySelectorAll(".is-invalid") : [], (control) => Number(control.closest("[data-step]")?.dataset.step)));
  replaceChildren(
    list,
    STEPS.map((label, index) => {
      const classes = ["wizard-step", index < current ? "done" : null, withErrors.has(index) ? "has-errors" : null];
      const content = [
        h("span", { class: "step-number", "aria-hidden": "true" }, index < current && !withErrors.has(index) ? icon("check-lg") : String(index + 1)),
        h("span", { class: "step-label" }, label),
        h("span", { class: "visually-hidden" }, index === current ? " (current step)" : index < current ? " (done)" : ""),
        withErrors.has(index) ? h("span", { class: "visually-hidden" }, " (has errors)") : null,
      ];
      if (index < current) {
        const button = h("button", { type: "button", class: classes, "aria-label": `Back to step ${index + 1}: ${label}` }, content);
        button.addEventListener("click", () => go(index));
        return h("li", {}, button);
      }
      return h("li", {}, h("span", { class: classes, "aria-current": index === current ? "step" : null }, content));
    }),
  );
}

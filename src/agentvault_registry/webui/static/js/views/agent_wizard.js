// Register an agent in three steps: where to start (a template, a pasted A2A Agent Card, or
// the URL where the agent publishes its card), the details (the card's name, description and
// endpoints, and the registry's own fields), and a review of the request. The API's field
// errors go back to the step and field they name. The steps are components; this view moves
// between them and sends the request.

import { isObject } from "../components/wizard_card_json.js";
import { DetailsStep } from "../components/wizard_details.js";
import { AGENTS, drawReview, requestBody } from "../components/wizard_review.js";
import { StartStep } from "../components/wizard_start.js";
import { drawSteps, STEPS, stepSection } from "../components/wizard_steps.js";
import { h, icon, replaceChildren, toast } from "../core/dom.js";
import { busy, clearErrors, errorSummary, showErrors } from "../core/forms.js";
import { View } from "../core/view.js";

/** The API's error with its paths as the wizard's controls are named. */
function fieldErrors(error, source) {
  const details = isObject(error.details) ? error.details : {};
  const cardControl = source === "url" ? "cardUrl" : "card";
  if (error.code === "invalid_agent_card") {
    // Paths inside the card ("skills.0.name"), which the wizard names from the card down.
    return { message: error.message, details: Object.fromEntries(Object.entries(details).map(([path, texts]) => [`${cardControl}.${path}`, texts])) };
  }
  if (error.code === "fetch_failed" || error.code === "fetch_refused") return { message: error.message, details: { cardUrl: [error.message] } };
  if (error.code === "conflict" && details.field === "human_readable_id") {
    return { message: error.message, details: { humanReadableId: ["Another agent has this id already: choose another."] } };
  }
  if (source === "url" && "card" in details) {
    const { card, ...rest } = details;
    return { message: error.message, details: { ...rest, cardUrl: card } };
  }
  return { message: error.message, details };
}

export default class AgentWizardView extends View {
  async render(container) {
    await super.render(container);
    this.step = 0;
    this.startKey = null;
    this.start = new StartStep(this);
    this.details = new DetailsStep(this);
    this.review = h("div", {});
    this.stepsList = h("ol", { class: "wizard-steps" });
    this.summary = errorSummary();
    this.sections = [this.start.render(), this.details.render(), stepSection(2, this.review)];
    this.back = h("button", { type: "button", class: "btn btn-outline-secondary" }, icon("arrow-left"), " Back");
    this.next = h("button", { type: "submit", class: "btn btn-primary" });
    this.back.addEventListener("click", () => this.go(this.step - 1));
    this.form = h(
      "form",
      { class: "agent-wizard", novalidate: true, "aria-label": "Register an agent" },
      this.summary,
      this.sections,
      h("div", { class: "d-flex justify-content-between gap-2 mt-4 pt-3 border-top" }, this.back, h("div", { class: "ms-auto" }, this.next)),
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.step < STEPS.length - 1) this.forward();
      else this.register();
    });
    container.append(
      h(
        "nav",
        { "aria-label": "Breadcrumb" },
        h(
          "ol",
          { class: "breadcrumb mb-2" },
          h("li", { class: "breadcrumb-item" }, h("a", { href: "/ui/developer" }, "Developer portal")),
          h("li", { class: "breadcrumb-item active", "aria-current": "page" }, "Register an agent"),
        ),
      ),
      h("h1", { class: "mb-1" }, "Register an agent"),
      h("p", { class: "text-body-secondary" }, "Describe your agent with an A2A Agent Card; the registry lists it in discovery and serves its card."),
      h("nav", { "aria-label": "Registration steps" }, this.stepsList),
      h("div", { class: "card" }, h("div", { class: "card-body p-md-4" }, this.form)),
    );
    this.show(0, { focus: false });
    this.start.loadTemplates();
  }

  // ------------------------------------------------------------- navigation

  show(index, { focus = true } = {}) {
    this.step = index;
    this.sections.forEach((section, position) => {
      section.hidden = position !== index;
    });
    this.drawSteps();
    this.back.hidden = index === 0;
    replaceChildren(this.next, index === STEPS.length - 1 ? [icon("check2-circle"), " Register agent"] : ["Next ", icon("arrow-right")]);
    if (index === 0) this.start.chooseSource(this.start.source);
    if (focus) this.sections[index].querySelector("h2").focus();
  }

  drawSteps() {
    drawSteps(this.stepsList, { form: this.form, current: this.step, go: (index) => this.go(index) });
  }

  go(index) {
    if (index < 0 || index >= STEPS.length) return;
    this.show(index);
  }

  /** Next: the current step must be complete (checked here, before the registry sees it). */
  forward() {
    clearErrors(this.form);
    const problems = this.step === 0 ? this.start.check(this.form) : this.details.check();
    if (Object.keys(problems).length) {
      showErrors(this.form, { message: "Check the highlighted fields.", details: problems });
      this.drawSteps();
      return;
    }
    if (this.step === 0) this.prepareDetails();
    if (this.step === 1) drawReview(this.review, this.body(), this.start.source);
    this.show(this.step + 1);
  }

  /** What the start step chose, as the details step edits it; kept when nothing changed. */
  prepareDetails() {
    const { key, record, card } = this.start.choice(this.form);
    if (key === this.startKey) return;
    this.startKey = key;
    this.details.draw(record, card, this.start.source);
  }

  // ---------------------------------------------------------------- request

  /** The POST /api/v1/agents body the form describes. */
  body() {
    return requestBody(this.form, { source: this.start.source, card: this.details.card, extra: this.details.extra });
  }

  async register() {
    clearErrors(this.form);
    let agent;
    try {
      agent = await busy(this.next, () => this.api.post(AGENTS, this.body(), { signal: this.signal }), "Registering…");
    } catch (error) {
      if (error.name !== "AbortError") this.showApiError(error);
      return;
    }
    toast(`Registered ${agent.name}.`);
    if (agent.cardWarnings && agent.cardWarnings.length) toast(`The registry adjusted the card: ${agent.cardWarnings.join(" ")}`, "warning");
    this.router.navigate(`/ui/developer?highlight=${encodeURIComponent(agent.id)}`);
  }

  /** Each error beside its field, on its step; the wizard goes to the first one. */
  showApiError(error) {
    showErrors(this.form, fieldErrors(error, this.start.source));
    const first = this.form.querySelector(".is-invalid");
    const step = first ? Number(first.closest("[data-step]").dataset.step) : this.step;
    this.show(step, { focus: false });
    this.drawSteps();
    if (!first) {
      const alert = this.summary.querySelector("[role=alert]");
      if (alert) {
        alert.tabIndex = -1;
        alert.focus();
      }
      return;
    }
    const details = first.closest("details");
    if (details) details.open = true;
    first.focus();
  }
}

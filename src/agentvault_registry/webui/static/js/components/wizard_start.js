// The register-agent wizard's first step: where the card comes from (one of the registry's
// templates, a pasted A2A Agent Card, or the URL where the agent publishes it), checked before
// Next, and what was chosen, as the details step starts from it.

import { emptyState, errorState, h, icon, loadingState, replaceChildren } from "../core/dom.js";
import { field } from "../core/forms.js";
import { jsonProblem } from "./wizard_card_json.js";
import { stepSection } from "./wizard_steps.js";

const TEMPLATES = "/api/v1/discovery/templates";
export const SOURCES = [
  { value: "template", title: "From a template", text: "A ready-made card for a common kind of agent, to adapt.", iconName: "grid-1x2" },
  { value: "card", title: "Paste an Agent Card", text: "The A2A Agent Card JSON your agent serves (v1.0; v0.3 is upgraded).", iconName: "filetype-json" },
  { value: "url", title: "From a card URL", text: "The registry fetches the card from where your agent publishes it.", iconName: "link-45deg" },
];

export class StartStep {
  constructor(view) {
    this.view = view;
    this.source = "template";
    this.templates = null;
  }

  render() {
    const options = SOURCES.map((source) => {
      const id = `wizard-source-${source.value}`;
      const radio = h("input", { class: "form-check-input", type: "radio", name: "source", id, value: source.value, checked: source.value === this.source });
      radio.addEventListener("change", () => this.chooseSource(source.value));
      return h(
        "div",
        { class: "col-md-4" },
        h(
          "label",
          { class: "card h-100 start-option", for: id },
          h(
            "span",
            { class: "card-body d-flex gap-2" },
            radio,
            h("span", {}, h("span", { class: "d-block fw-semibold" }, icon(source.iconName), " ", source.title), h("span", { class: "d-block small text-body-secondary" }, source.text)),
          ),
        ),
      );
    });
    this.templateList = h("div", {}, loadingState("Loading templates…"));
    const templateChoice = h(
      "div",
      { dataset: { sourcePanel: "template" } },
      h("fieldset", { id: "wizard-template", name: "template" }, h("legend", { class: "h6" }, "Template"), this.templateList),
      h("div", { id: "wizard-template-feedback", class: "invalid-feedback" }),
    );
    const cardText = field({
      name: "cardText",
      id: "wizard-card-text",
      label: "A2A Agent Card (JSON)",
      kind: "textarea",
      class: "form-control card-json",
      rows: 12,
      spellcheck: false,
      placeholder: '{\n  "name": "My agent",\n  "description": "…",\n  "supportedInterfaces": [ … ],\n  "skills": [ … ]\n}',
      help: "Paste the card your agent serves at /.well-known/agent-card.json. It is checked here first, then by the registry.",
    });
    cardText.dataset.sourcePanel = "card";
    const cardUrl = field({
      name: "cardUrl",
      id: "wizard-card-url",
      label: "Card URL",
      type: "url",
      inputmode: "url",
      autocomplete: "url",
      placeholder: "https://my-agent.example.com/.well-known/agent-card.json",
      help: "A .json URL is fetched as is; any other URL is looked up at its origin's /.well-known/agent-card.json.",
    });
    cardUrl.dataset.sourcePanel = "url";
    this.section = stepSection(
      0,
      h("fieldset", { class: "mb-4" }, h("legend", { class: "visually-hidden" }, "How do you want to start?"), h("div", { class: "row g-3" }, options)),
      templateChoice,
      cardText,
      cardUrl,
    );
    return this.section;
  }

  /** Shows the chosen source's panel; the others' controls are disabled, so none is checked or sent. */
  chooseSource(value) {
    this.source = value;
    for (const panel of this.section.querySelectorAll("[data-source-panel]")) {
      const active = panel.dataset.sourcePanel === value;
      panel.hidden = !active;
      for (const control of panel.querySelectorAll("input, textarea, select")) control.disabled = !active;
    }
  }

  async loadTemplates() {
    replaceChildren(this.templateList, loadingState("Loading templates…"));
    try {
      const { templates } = await this.view.api.get(TEMPLATES, { signal: this.view.signal });
      this.templates = templates;
      if (!templates.length) {
        replaceChildren(this.templateList, emptyState({ iconName: "grid-1x2", title: "This registry offers no templates", text: "Paste a card or give its URL instead." }));
        return;
      }
      replaceChildren(
        this.templateList,
        h(
          "div",
          { class: "list-group" },
          templates.map((template, index) => {
            const id = `wizard-template-${template.id}`;
            return h(
              "label",
              { class: "list-group-item d-flex gap-3", for: id },
              h("input", { class: "form-check-input flex-shrink-0 mt-1", type: "radio", name: "templateId", id, value: template.id, checked: index === 0 }),
              h(
                "span",
                {},
                h("span", { class: "d-block fw-semibold" }, template.title),
                h("span", { class: "d-block small text-body-secondary" }, template.description),
                h("code", { class: "small" }, template.agent_type),
              ),
            );
          }),
        ),
      );
      this.chooseSource(this.source);
    } catch (error) {
      if (error.name !== "AbortError")
        replaceChildren(
          this.templateList,
          errorState(error, () => this.loadTemplates()),
        );
    }
  }

  /** The problems that keep the user on this step, by control name (none: it is complete). */
  check(form) {
    if (this.source === "template") {
      const chosen = form.querySelector("input[name=templateId]:checked");
      return chosen ? {} : { template: [this.templates ? "Choose a template." : "The templates have not loaded: try again, or start from a card."] };
    }
    if (this.source === "card") {
      const text = form.elements.namedItem("cardText").value.trim();
      if (!text) return { cardText: ["Paste the card's JSON."] };
      const { problem } = jsonProblem(text);
      return problem ? { cardText: [problem] } : {};
    }
    const url = form.elements.namedItem("cardUrl").value.trim();
    if (!url) return { cardUrl: ["Give the URL of the card."] };
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch {
      // Not a URL at all; said below.
    }
    return parsed && /^https?:$/.test(parsed.protocol) ? {} : { cardUrl: ["Give an http:// or https:// URL."] };
  }

  /** What was chosen: a key that changes with the choice, the template's request body and the card. */
  choice(form) {
    if (this.source === "template") {
      const template = this.templates.find((item) => item.id === form.querySelector("input[name=templateId]:checked").value);
      const record = structuredClone(template.body);
      return { key: `template:${template.id}`, record, card: record.card || null };
    }
    if (this.source === "card") {
      const text = form.elements.namedItem("cardText").value.trim();
      return { key: `card:${text}`, record: {}, card: jsonProblem(text).parsed };
    }
    return { key: `url:${form.elements.namedItem("cardUrl").value.trim()}`, record: {}, card: null };
  }
}

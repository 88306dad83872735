// The register-agent wizard's details step: the card's name, version, description, endpoints
// and skills, the whole card as JSON (both edit the same card, each redrawn from the other), and
// the registry's own fields (agent type, human-readable id, tags, pricing).

import { h, icon, replaceChildren } from "../core/dom.js";
import { field } from "../core/forms.js";
import { isObject, jsonProblem, pretty } from "./wizard_card_json.js";
import { stepSection } from "./wizard_steps.js";

export const PRICING = [
  { value: "", label: "Not stated" },
  { value: "free", label: "Free" },
  { value: "per_call", label: "Per call" },
  { value: "subscription", label: "Subscription" },
  { value: "usage", label: "Usage-based" },
];
/** Template fields the details step edits itself; any other field of a template is sent as is. */
const EDITED = new Set(["card", "agentType", "humanReadableId", "tags", "pricing"]);
const DEFAULT_INTERFACE = { protocolBinding: "JSONRPC", protocolVersion: "1.0" };

export class DetailsStep {
  constructor(view) {
    this.view = view;
    this.card = null;
  }

  render() {
    this.container = h("div", {});
    return stepSection(1, this.container);
  }

  /** The problems that keep the user on this step, by control name (none: it is complete). */
  check() {
    const problems = {};
    if (this.cardJsonProblem) problems.card = [this.cardJsonProblem];
    for (const control of this.container.querySelectorAll("input, textarea, select")) {
      if (!control.disabled && !control.checkValidity()) problems[control.name] = [control.validationMessage];
    }
    return problems;
  }

  /** Draws the step for what the start step chose; the template's other fields are kept as they are. */
  draw(record, card, source) {
    this.card = card;
    this.cardJsonProblem = null;
    this.extra = Object.fromEntries(Object.entries(record).filter(([name]) => !EDITED.has(name)));
    const recordFields = h(
      "fieldset",
      { class: "mt-4" },
      h("legend", { class: "h5" }, "In this registry"),
      h(
        "div",
        { class: "row g-3" },
        h(
          "div",
          { class: "col-md-6" },
          field({
            name: "agentType",
            id: "wizard-agent-type",
            label: "Agent type",
            value: record.agentType || "",
            maxlength: 64,
            placeholder: "a2a",
            help: "A short kind clients filter by; a2a when left empty.",
          }),
        ),
        h(
          "div",
          { class: "col-md-6" },
          field({
            name: "humanReadableId",
            id: "wizard-hrid",
            label: "Human-readable id",
            // A template's id is only an example: whoever used the template first has it.
            value: source === "template" ? "" : record.humanReadableId || "",
            pattern: "[a-z0-9][a-z0-9\\-]{1,62}[a-z0-9]",
            placeholder: source === "template" && record.humanReadableId ? `made from the name, e.g. ${record.humanReadableId}` : "made from the name",
            help: "3 to 64 lowercase letters, digits or -, unique in the registry; part of the agent's URLs.",
          }),
        ),
        h("div", { class: "col-md-6" }, field({ name: "tags", id: "wizard-tags", label: "Tags (comma-separated)", value: (record.tags || []).join(", "), placeholder: "chat, search" })),
        h(
          "div",
          { class: "col-md-6" },
          field({
            name: "pricing.model",
            id: "wizard-pricing",
            label: "Pricing",
            kind: "select",
            options: PRICING.map((option) => ({ ...option, selected: option.value === ((record.pricing && record.pricing.model) || "") })),
          }),
        ),
      ),
    );
    if (source === "url") {
      const url = this.view.form.elements.namedItem("cardUrl").value.trim();
      replaceChildren(
        this.container,
        h(
          "div",
          { class: "alert alert-info" },
          icon("cloud-download"),
          " The registry fetches the card from ",
          h("code", { class: "font-monospace-wrap" }, url),
          " when you register: the agent's name, description, endpoints and skills come from it.",
        ),
        recordFields,
      );
      return;
    }
    this.endpointList = h("div", {});
    this.skillList = h("div", {});
    const jsonField = field({
      name: "card",
      id: "wizard-card-json",
      label: "The whole card (JSON)",
      kind: "textarea",
      class: "form-control card-json",
      rows: 16,
      spellcheck: false,
      help: "Skills, security schemes and everything else the card says. The fields above edit the same card.",
    });
    this.jsonArea = jsonField.querySelector("textarea");
    this.jsonArea.value = pretty(this.card);
    this.jsonArea.addEventListener("input", () => this.cardEdited());
    const cardField = (name, label, props) => {
      const wrapper = field({ name: `card.${name}`, id: `wizard-card-${name}`, label, ...props });
      const control = wrapper.querySelector("input, textarea");
      control.value = typeof this.card[name] === "string" ? this.card[name] : "";
      control.addEventListener("input", () => this.setCard(name, control.value));
      return wrapper;
    };
    replaceChildren(
      this.container,
      h(
        "fieldset",
        {},
        h("legend", { class: "h5" }, "The Agent Card"),
        h(
          "div",
          { class: "row g-3" },
          h("div", { class: "col-md-8" }, cardField("name", "Name", { required: true, maxlength: 200 })),
          h("div", { class: "col-md-4" }, cardField("version", "Version", { required: true, placeholder: "1.0.0" })),
        ),
        cardField("description", "Description", { kind: "textarea", rows: 3, required: true }),
        h("h3", { class: "h6 mt-2" }, "Endpoints"),
        this.endpointList,
        h("h3", { class: "h6 mt-3" }, "Skills"),
        this.skillList,
        h("details", { class: "mt-3" }, h("summary", {}, "Edit the whole card as JSON"), h("div", { class: "mt-2" }, jsonField)),
      ),
      recordFields,
    );
    this.drawEndpoints();
    this.drawSkills();
  }

  setCard(path, value) {
    this.card[path] = value;
    this.jsonArea.value = pretty(this.card);
  }

  /** The JSON was edited: adopt it when it parses, and redraw what shows its parts. */
  cardEdited() {
    const { parsed, problem } = jsonProblem(this.jsonArea.value);
    const feedback = document.getElementById(`${this.jsonArea.id}-feedback`);
    this.cardJsonProblem = problem || null;
    this.jsonArea.classList.toggle("is-invalid", Boolean(problem));
    feedback.textContent = problem || "";
    if (!parsed) return;
    this.card = parsed;
    for (const name of ["name", "version", "description"]) {
      const control = this.view.form.elements.namedItem(`card.${name}`);
      if (control) control.value = typeof parsed[name] === "string" ? parsed[name] : "";
    }
    this.drawEndpoints();
    this.drawSkills();
  }

  /** One URL field per interface (A2A 1.0 supportedInterfaces; a v0.3 card's single url). */
  drawEndpoints() {
    const card = this.card;
    if (!Array.isArray(card.supportedInterfaces) && typeof card.url === "string") {
      const wrapper = field({
        name: "card.url",
        id: "wizard-card-url-legacy",
        label: "Endpoint URL",
        type: "url",
        value: card.url,
        required: true,
        help: "A v0.3 card: the registry upgrades it to supportedInterfaces.",
      });
      wrapper.querySelector("input").addEventListener("input", (event) => this.setCard("url", event.target.value));
      replaceChildren(this.endpointList, wrapper);
      return;
    }
    const interfaces = Array.isArray(card.supportedInterfaces) ? card.supportedInterfaces : [];
    const rows = interfaces.map((item, index) => {
      const id = `wizard-endpoint-${index}`;
      const input = h("input", {
        class: "form-control",
        type: "url",
        id,
        name: `card.supportedInterfaces.${index}.url`,
        value: (isObject(item) && item.url) || "",
        required: true,
        "aria-describedby": `${id}-feedback`,
        placeholder: "https://my-agent.example.com/a2a",
      });
      input.addEventListener("input", () => {
        card.supportedInterfaces[index].url = input.value;
        this.jsonArea.value = pretty(card);
      });
      const remove = h("button", { type: "button", class: "btn btn-outline-secondary", "aria-label": `Remove endpoint ${index + 1}`, disabled: interfaces.length < 2 }, icon("x-lg"));
      remove.addEventListener("click", () => {
        card.supportedInterfaces.splice(index, 1);
        this.jsonArea.value = pretty(card);
        this.drawEndpoints();
        this.endpointList.querySelector("input")?.focus();
      });
      const binding = isObject(item) ? [item.protocolBinding, item.protocolVersion].filter(Boolean).join(" ") : "";
      return h(
        "div",
        { class: "mb-2" },
        h("label", { class: "form-label small mb-1", for: id }, `Endpoint ${index + 1}`, binding ? h("span", { class: "text-body-secondary" }, ` · ${binding}`) : null),
        h("div", { class: "input-group has-validation" }, input, remove, h("div", { id: `${id}-feedback`, class: "invalid-feedback" })),
      );
    });
    const add = h("button", { type: "button", class: "btn btn-sm btn-outline-primary" }, icon("plus-lg"), " Add an endpoint");
    add.addEventListener("click", () => {
      const first = interfaces.find(isObject) || DEFAULT_INTERFACE;
      card.supportedInterfaces = [...interfaces, { url: "", protocolBinding: first.protocolBinding || "JSONRPC", protocolVersion: first.protocolVersion || "1.0" }];
      this.jsonArea.value = pretty(card);
      this.drawEndpoints();
      const inputs = this.endpointList.querySelectorAll("input");
      inputs[inputs.length - 1].focus();
    });
    replaceChildren(this.endpointList, rows.length ? rows : h("p", { class: "small text-body-secondary" }, "The card names no endpoint yet."), add);
  }

  drawSkills() {
    const skills = Array.isArray(this.card.skills) ? this.card.skills.filter(isObject) : [];
    replaceChildren(
      this.skillList,
      skills.length
        ? h(
            "ul",
            { class: "list-unstyled mb-1" },
            skills.map((skill) =>
              h(
                "li",
                { class: "mb-1" },
                h("span", { class: "fw-semibold" }, skill.name || skill.id || "Unnamed skill"),
                skill.description ? h("span", { class: "text-body-secondary" }, ` — ${skill.description}`) : null,
                Array.isArray(skill.tags) && skill.tags.length
                  ? h(
                      "span",
                      { class: "ms-1" },
                      skill.tags.map((tag) => h("span", { class: "badge badge-neutral fw-normal ms-1" }, tag)),
                    )
                  : null,
              ),
            ),
          )
        : h("p", { class: "small text-body-secondary mb-1" }, "The card lists no skills."),
      h("p", { class: "small text-body-secondary mb-0" }, "Skills are the agent's capabilities in discovery; edit them in the card's JSON below."),
    );
  }
}

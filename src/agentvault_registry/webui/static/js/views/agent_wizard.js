// Register an agent in three steps: where to start (a template, a pasted A2A Agent Card, or
// the URL where the agent publishes its card), the details (the card's name, description and
// endpoints, and the registry's own fields), and a review of the request. The API's field
// errors go back to the step and field they name.

import { emptyState, errorState, h, icon, loadingState, replaceChildren, toast } from "../core/dom.js";
import { busy, clearErrors, errorSummary, field, showErrors } from "../core/forms.js";
import { View } from "../core/view.js";

const TEMPLATES = "/api/v1/discovery/templates";
const AGENTS = "/api/v1/agents";
const STEPS = ["Starting point", "Details", "Review"];
const SOURCES = [
  { value: "template", title: "From a template", text: "A ready-made card for a common kind of agent, to adapt.", iconName: "grid-1x2" },
  { value: "card", title: "Paste an Agent Card", text: "The A2A Agent Card JSON your agent serves (v1.0; v0.3 is upgraded).", iconName: "filetype-json" },
  { value: "url", title: "From a card URL", text: "The registry fetches the card from where your agent publishes it.", iconName: "link-45deg" },
];
const PRICING = [
  { value: "", label: "Not stated" },
  { value: "free", label: "Free" },
  { value: "per_call", label: "Per call" },
  { value: "subscription", label: "Subscription" },
  { value: "usage", label: "Usage-based" },
];
/** Template fields the details step edits itself; any other field of a template is sent as is. */
const EDITED = new Set(["card", "agentType", "humanReadableId", "tags", "pricing"]);
const DEFAULT_INTERFACE = { protocolBinding: "JSONRPC", protocolVersion: "1.0" };

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A JSON.parse failure in words a person can act on. */
function jsonProblem(text) {
  try {
    const parsed = JSON.parse(text);
    if (!isObject(parsed)) return { problem: `An Agent Card is a JSON object ({ … }), not ${Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`}.` };
    return { parsed };
  } catch (error) {
    return { problem: `This is not valid JSON: ${error.message}` };
  }
}

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
    this.source = "template";
    this.templates = null;
    this.card = null;
    this.startKey = null;
    this.stepsList = h("ol", { class: "wizard-steps" });
    this.summary = errorSummary();
    this.sections = [this.startStep(), this.detailsStep(), this.reviewStep()];
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
    this.loadTemplates();
  }

  // ------------------------------------------------------------------ steps

  stepSection(index, ...children) {
    return h(
      "section",
      { class: "wizard-section", dataset: { step: String(index) }, "aria-labelledby": `wizard-step-${index}-heading`, hidden: true },
      h("h2", { class: "h4 mb-3", id: `wizard-step-${index}-heading`, tabindex: "-1" }, `${index + 1}. ${STEPS[index]}`),
      children,
    );
  }

  startStep() {
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
    this.templateChoice = h(
      "div",
      { dataset: { sourcePanel: "template" } },
      h("fieldset", { id: "wizard-template", name: "template" }, h("legend", { class: "h6" }, "Template"), this.templateList),
      h("div", { id: "wizard-template-feedback", class: "invalid-feedback" }),
    );
    this.cardText = field({
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
    this.cardText.dataset.sourcePanel = "card";
    this.cardUrl = field({
      name: "cardUrl",
      id: "wizard-card-url",
      label: "Card URL",
      type: "url",
      inputmode: "url",
      autocomplete: "url",
      placeholder: "https://my-agent.example.com/.well-known/agent-card.json",
      help: "A .json URL is fetched as is; any other URL is looked up at its origin's /.well-known/agent-card.json.",
    });
    this.cardUrl.dataset.sourcePanel = "url";
    return this.stepSection(
      0,
      h("fieldset", { class: "mb-4" }, h("legend", { class: "visually-hidden" }, "How do you want to start?"), h("div", { class: "row g-3" }, options)),
      this.templateChoice,
      this.cardText,
      this.cardUrl,
    );
  }

  detailsStep() {
    this.details = h("div", {});
    return this.stepSection(1, this.details);
  }

  reviewStep() {
    this.review = h("div", {});
    return this.stepSection(2, this.review);
  }

  chooseSource(value) {
    this.source = value;
    for (const panel of this.sections[0].querySelectorAll("[data-source-panel]")) {
      const active = panel.dataset.sourcePanel === value;
      panel.hidden = !active;
      for (const control of panel.querySelectorAll("input, textarea, select")) control.disabled = !active;
    }
  }

  async loadTemplates() {
    replaceChildren(this.templateList, loadingState("Loading templates…"));
    try {
      const { templates } = await this.api.get(TEMPLATES, { signal: this.signal });
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

  // ------------------------------------------------------------- navigation

  show(index, { focus = true } = {}) {
    this.step = index;
    this.sections.forEach((section, position) => {
      section.hidden = position !== index;
    });
    this.drawSteps();
    this.back.hidden = index === 0;
    replaceChildren(this.next, index === STEPS.length - 1 ? [icon("check2-circle"), " Register agent"] : ["Next ", icon("arrow-right")]);
    if (index === 0) this.chooseSource(this.source);
    if (focus) this.sections[index].querySelector("h2").focus();
  }

  drawSteps() {
    const withErrors = new Set(Array.from(this.form ? this.form.querySelectorAll(".is-invalid") : [], (control) => Number(control.closest("[data-step]")?.dataset.step)));
    replaceChildren(
      this.stepsList,
      STEPS.map((label, index) => {
        const classes = ["wizard-step", index < this.step ? "done" : null, withErrors.has(index) ? "has-errors" : null];
        const content = [
          h("span", { class: "step-number", "aria-hidden": "true" }, index < this.step && !withErrors.has(index) ? icon("check-lg") : String(index + 1)),
          h("span", { class: "step-label" }, label),
          h("span", { class: "visually-hidden" }, index === this.step ? " (current step)" : index < this.step ? " (done)" : ""),
          withErrors.has(index) ? h("span", { class: "visually-hidden" }, " (has errors)") : null,
        ];
        if (index < this.step) {
          const button = h("button", { type: "button", class: classes, "aria-label": `Back to step ${index + 1}: ${label}` }, content);
          button.addEventListener("click", () => this.go(index));
          return h("li", {}, button);
        }
        return h("li", {}, h("span", { class: classes, "aria-current": index === this.step ? "step" : null }, content));
      }),
    );
  }

  go(index) {
    if (index < 0 || index >= STEPS.length) return;
    this.show(index);
  }

  /** Next: the current step must be complete (checked here, before the registry sees it). */
  forward() {
    clearErrors(this.form);
    const problems = this.step === 0 ? this.checkStart() : this.checkDetails();
    if (Object.keys(problems).length) {
      showErrors(this.form, { message: "Check the highlighted fields.", details: problems });
      this.drawSteps();
      return;
    }
    if (this.step === 0) this.prepareDetails();
    if (this.step === 1) this.drawReview();
    this.show(this.step + 1);
  }

  checkStart() {
    if (this.source === "template") {
      const chosen = this.form.querySelector("input[name=templateId]:checked");
      return chosen ? {} : { template: [this.templates ? "Choose a template." : "The templates have not loaded: try again, or start from a card."] };
    }
    if (this.source === "card") {
      const text = this.form.elements.namedItem("cardText").value.trim();
      if (!text) return { cardText: ["Paste the card's JSON."] };
      const { problem } = jsonProblem(text);
      return problem ? { cardText: [problem] } : {};
    }
    const url = this.form.elements.namedItem("cardUrl").value.trim();
    if (!url) return { cardUrl: ["Give the URL of the card."] };
    let parsed = null;
    try {
      parsed = new URL(url);
    } catch {
      // Not a URL at all; said below.
    }
    return parsed && /^https?:$/.test(parsed.protocol) ? {} : { cardUrl: ["Give an http:// or https:// URL."] };
  }

  checkDetails() {
    const problems = {};
    if (this.cardJsonProblem) problems.card = [this.cardJsonProblem];
    for (const control of this.details.querySelectorAll("input, textarea, select")) {
      if (!control.disabled && !control.checkValidity()) problems[control.name] = [control.validationMessage];
    }
    return problems;
  }

  /** What the start step chose, as the details step edits it; kept when nothing changed. */
  prepareDetails() {
    let key;
    let record = {};
    let card = null;
    if (this.source === "template") {
      const template = this.templates.find((item) => item.id === this.form.querySelector("input[name=templateId]:checked").value);
      key = `template:${template.id}`;
      record = structuredClone(template.body);
      card = record.card || null;
    } else if (this.source === "card") {
      const text = this.form.elements.namedItem("cardText").value.trim();
      key = `card:${text}`;
      card = jsonProblem(text).parsed;
    } else {
      key = `url:${this.form.elements.namedItem("cardUrl").value.trim()}`;
    }
    if (key === this.startKey) return;
    this.startKey = key;
    this.card = card;
    this.cardJsonProblem = null;
    this.extra = Object.fromEntries(Object.entries(record).filter(([name]) => !EDITED.has(name)));
    this.drawDetails(record);
  }

  // ---------------------------------------------------------------- details

  drawDetails(record) {
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
            value: this.source === "template" ? "" : record.humanReadableId || "",
            pattern: "[a-z0-9][a-z0-9\\-]{1,62}[a-z0-9]",
            placeholder: this.source === "template" && record.humanReadableId ? `made from the name, e.g. ${record.humanReadableId}` : "made from the name",
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
    if (this.source === "url") {
      const url = this.form.elements.namedItem("cardUrl").value.trim();
      replaceChildren(
        this.details,
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
    this.jsonField = field({
      name: "card",
      id: "wizard-card-json",
      label: "The whole card (JSON)",
      kind: "textarea",
      class: "form-control card-json",
      rows: 16,
      spellcheck: false,
      help: "Skills, security schemes and everything else the card says. The fields above edit the same card.",
    });
    this.jsonArea = this.jsonField.querySelector("textarea");
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
      this.details,
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
        h("details", { class: "mt-3" }, h("summary", {}, "Edit the whole card as JSON"), h("div", { class: "mt-2" }, this.jsonField)),
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
      const control = this.form.elements.namedItem(`card.${name}`);
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

  // ----------------------------------------------------------------- review

  /** The POST /api/v1/agents body the form describes. */
  body() {
    const value = (name) => {
      const control = this.form.elements.namedItem(name);
      return control ? control.value.trim() : "";
    };
    const body = { ...this.extra };
    if (this.source === "url") body.cardUrl = value("cardUrl");
    else body.card = this.card;
    if (value("agentType")) body.agentType = value("agentType");
    if (value("humanReadableId")) body.humanReadableId = value("humanReadableId");
    const tags = value("tags")
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean);
    if (tags.length) body.tags = tags;
    if (value("pricing.model")) body.pricing = { model: value("pricing.model") };
    return body;
  }

  drawReview() {
    const body = this.body();
    const card = body.card || {};
    const endpoints = Array.isArray(card.supportedInterfaces) ? card.supportedInterfaces.map((item) => item.url) : card.url ? [card.url] : [];
    const facts = [
      ["Starting point", SOURCES.find((source) => source.value === this.source).title],
      body.cardUrl ? ["Card URL", h("code", { class: "font-monospace-wrap" }, body.cardUrl)] : null,
      card.name ? ["Name", card.name] : null,
      card.description ? ["Description", card.description] : null,
      endpoints.length
        ? [
            "Endpoints",
            h(
              "ul",
              { class: "list-unstyled mb-0" },
              endpoints.map((url) => h("li", {}, h("code", { class: "font-monospace-wrap" }, url))),
            ),
          ]
        : null,
      Array.isArray(card.skills) ? ["Skills", String(card.skills.length)] : null,
      ["Agent type", body.agentType || "a2a"],
      ["Human-readable id", body.humanReadableId || "made from the name"],
      ["Tags", body.tags ? body.tags.join(", ") : "none"],
      ["Pricing", body.pricing ? PRICING.find((option) => option.value === body.pricing.model).label : "not stated"],
    ].filter(Boolean);
    replaceChildren(
      this.review,
      h(
        "dl",
        { class: "row mb-3" },
        facts.map(([term, detail]) => [h("dt", { class: "col-sm-4" }, term), h("dd", { class: "col-sm-8" }, detail)]),
      ),
      h(
        "details",
        {},
        h("summary", {}, "The request the registry receives"),
        h("pre", { class: "json mt-2 mb-0", tabindex: "0", "aria-label": "Request body" }, h("code", {}, `POST ${AGENTS}\n\n${pretty(body)}`)),
      ),
    );
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
    showErrors(this.form, fieldErrors(error, this.source));
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

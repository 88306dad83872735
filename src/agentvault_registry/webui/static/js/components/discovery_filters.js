// The discovery filter sidebar: every filter the discovery API takes, with facet counts
// beside the values. It reads and changes the view's filters (the URL query) through the
// view, which searches again after each change.

import { formatCount, h, icon, replaceChildren } from "../core/dom.js";

const TEXT_DELAY_MS = 350;
const FLAGS = [
  ["verified", "Verified owner"],
  ["signed", "Signed card"],
  ["healthy", "Healthy"],
  ["streaming", "Streaming"],
  ["push_notifications", "Push notifications"],
  ["has_pricing", "Has pricing"],
];
const TEXT_FILTERS = [
  ["tags", "Tags", "weather, finance"],
  ["input_mode", "Input media types", "text/plain, image/png"],
  ["output_mode", "Output media types", "application/json"],
  ["extension", "Card extensions (URI)", "https://…"],
  ["currency", "Pricing currency", "USD"],
  ["developer", "Developer id", ""],
];
const FACETED = [
  ["agent_type", "Agent type"],
  ["protocol_binding", "Protocol binding"],
  ["security_scheme", "Security scheme"],
];
const SORTS = [
  ["", "Best match"],
  ["created_at", "Newest"],
  ["updated_at", "Recently updated"],
  ["name", "Name"],
];
const PREFERENCES = [
  ["healthy", "healthy"],
  ["signed", "signed"],
  ["verified", "verified"],
];

function splitList(value) {
  return (value || "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

export class DiscoveryFilters {
  /** view: the discovery view (filters, setFilter, clearFilters, activeFilterCount, later). */
  constructor(view, sidebar) {
    this.view = view;
    this.sidebar = sidebar;
  }

  get filters() {
    return this.view.filters;
  }

  get capabilities() {
    return this.view.capabilities;
  }

  setFilter(name, value) {
    this.view.setFilter(name, value);
  }

  /** The sidebar for an answer's facets (null when the search failed). */
  draw(facets) {
    const form = h(
      "form",
      { class: "discovery-filters", "aria-label": "Filter agents", onsubmit: (event) => event.preventDefault() },
      this.selectFilter("sort", "Sort by", SORTS),
      this.capabilityFilter(),
      ...FACETED.map(([name, label]) => this.facetFilter(name, label, facets?.[name] || [], facets ? facets.exact : true)),
      this.flagFilters(),
      this.statusFilter(),
      this.preferFilter(),
      h(
        "details",
        { class: "mb-3", open: TEXT_FILTERS.some(([name]) => this.filters.has(name)) },
        h("summary", { class: "fw-semibold mb-2" }, "More filters"),
        TEXT_FILTERS.map(([name, label, placeholder]) => this.textFilter(name, label, placeholder)),
      ),
      this.view.activeFilterCount() ? h("button", { type: "button", class: "btn btn-outline-secondary btn-sm w-100", onclick: () => this.view.clearFilters() }, icon("x-circle"), " Clear filters") : null,
    );
    // The sidebar is redrawn with each answer's facet counts; whoever was typing or ticking
    // keeps their place.
    const focused = this.sidebar.contains(document.activeElement) ? document.activeElement : null;
    const caret = focused && typeof focused.selectionStart === "number" ? focused.selectionStart : null;
    replaceChildren(this.sidebar, form);
    const again = focused && focused.id ? document.getElementById(focused.id) : null;
    if (again) {
      again.focus();
      if (caret !== null) again.setSelectionRange(caret, caret);
    }
  }

  group(title, ...body) {
    return h("fieldset", { class: "mb-3" }, h("legend", { class: "fs-6 fw-semibold mb-1" }, title), body);
  }

  checkbox(name, value, label, checked, count, onChange) {
    const id = `filter-${name}-${value}`.replace(/[^A-Za-z0-9_-]/g, "-");
    return h(
      "div",
      { class: "form-check" },
      h("input", { class: "form-check-input", type: "checkbox", id, value, checked, onchange: onChange }),
      h("label", { class: "form-check-label d-flex justify-content-between gap-2", for: id }, h("span", { class: "text-break" }, label), count === null ? null : h("span", { class: "badge text-bg-light border", "aria-label": `${count} agents` }, formatCount(count))),
    );
  }

  /** A list filter as checkboxes; toggling one rewrites the comma-separated parameter. */
  listCheckboxes(name, options) {
    const selected = splitList(this.filters.get(name));
    const known = new Set(options.map((option) => option.value));
    const all = [...options, ...selected.filter((value) => !known.has(value)).map((value) => ({ value, count: null }))];
    return all.map((option) =>
      this.checkbox(name, option.value, option.label || option.value, selected.includes(option.value), option.count, (event) => {
        const now = splitList(this.filters.get(name)).filter((value) => value !== option.value);
        if (event.target.checked) now.push(option.value);
        this.setFilter(name, now.join(","));
      }),
    );
  }

  facetFilter(name, label, counts, exact) {
    if (!counts.length && !this.filters.has(name)) return null;
    return this.group(
      [label, exact ? null : h("span", { class: "small fw-normal text-body-secondary" }, " (estimated)")],
      this.listCheckboxes(name, counts.map((item) => ({ value: item.value, count: item.count }))),
    );
  }

  capabilityFilter() {
    if (!this.capabilities.length && !this.filters.has("capabilities")) return null;
    const match = this.filters.get("capability_match") || "any";
    return this.group(
      "Capabilities",
      this.listCheckboxes("capabilities", this.capabilities.map((item) => ({ value: item.capability, count: item.count }))),
      h(
        "div",
        { class: "mt-2" },
        h("label", { class: "form-label small mb-1", for: "filter-capability-match" }, "Agents need"),
        h(
          "select",
          { class: "form-select form-select-sm", id: "filter-capability-match", onchange: (event) => this.setFilter("capability_match", event.target.value === "any" ? "" : event.target.value) },
          h("option", { value: "any", selected: match === "any" }, "any of the checked"),
          h("option", { value: "all", selected: match === "all" }, "all of the checked"),
        ),
      ),
    );
  }

  flagFilters() {
    return this.group(
      "Features",
      FLAGS.map(([name, label]) => {
        const id = `filter-${name}`;
        const current = this.filters.get(name) || "";
        return h(
          "div",
          { class: "d-flex align-items-center justify-content-between gap-2 mb-1" },
          h("label", { class: "form-label small mb-0", for: id }, label),
          h(
            "select",
            { class: "form-select form-select-sm w-auto", id, onchange: (event) => this.setFilter(name, event.target.value) },
            h("option", { value: "", selected: current === "" }, "any"),
            h("option", { value: "true", selected: current === "true" }, "yes"),
            h("option", { value: "false", selected: current === "false" }, "no"),
          ),
        );
      }),
    );
  }

  statusFilter() {
    return this.selectFilter("status", "Status", [
      ["", "Active (default)"],
      ["active,inactive,deprecated", "Any status"],
      ["inactive", "Inactive"],
      ["deprecated", "Deprecated"],
    ]);
  }

  preferFilter() {
    return this.group(
      "Rank first what is",
      this.listCheckboxes(
        "prefer",
        PREFERENCES.map(([value, label]) => ({ value, label, count: null })),
      ),
    );
  }

  selectFilter(name, label, options) {
    const id = `filter-${name}`;
    const current = this.filters.get(name) || "";
    const known = options.some(([value]) => value === current);
    return h(
      "div",
      { class: "mb-3" },
      h("label", { class: "form-label fw-semibold mb-1", for: id }, label),
      h(
        "select",
        { class: "form-select form-select-sm", id, onchange: (event) => this.setFilter(name, event.target.value) },
        options.map(([value, text]) => h("option", { value, selected: value === current }, text)),
        known ? null : h("option", { value: current, selected: true }, current),
      ),
    );
  }

  textFilter(name, label, placeholder) {
    const id = `filter-${name}`;
    const input = h("input", { class: "form-control form-control-sm", id, value: this.filters.get(name) || "", placeholder, autocomplete: "off" });
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = this.view.later(TEXT_DELAY_MS, () => this.setFilter(name, input.value.trim()));
    });
    return h("div", { class: "mb-2" }, h("label", { class: "form-label small mb-1", for: id }, label), input);
  }
}

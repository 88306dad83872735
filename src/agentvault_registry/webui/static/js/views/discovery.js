// Discovery: agent cards in a grid (or a list) with every discovery filter in a sidebar,
// facet counts beside the values, the federation toggle with the peers that answered, and
// the agent detail modal. The filters live in the URL, so a reload or a shared link keeps them.

import { emptyState, errorState, formatCount, h, icon, loadingState, replaceChildren, spinner } from "../core/dom.js";
import { busy } from "../core/forms.js";
import { readPrefs, writePrefs } from "../core/prefs.js";
import { View } from "../core/view.js";
import { agentBadges, openAgentDetail, originOf } from "../components/agent_detail.js";

const SEARCH = "/api/v1/discovery/agents";
const PER_PAGE = 24;
const TEXT_DELAY_MS = 350;
const TOP_CAPABILITIES = 15;
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
/** Parameters that are the view's own, not filters. */
const NOT_FILTERS = new Set(["sort", "include_federated", "cursor"]);

function splitList(value) {
  return (value || "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

export default class DiscoveryView extends View {
  async render(container) {
    this.filters = new URLSearchParams(this.query);
    this.filters.delete("cursor");
    this.layout = readPrefs().discoveryLayout;
    this.results = h("div", { "aria-live": "polite", "data-results": "" });
    this.summary = h("p", { class: "mb-0 text-body-secondary", "data-result-summary": "" });
    this.federation = h("div", { "data-federation-status": "" });
    this.sidebar = h("div", { class: "collapse d-lg-block", id: "discovery-filters" });
    this.filterCount = h("span", { class: "badge text-bg-primary ms-1" });
    this.searchBox = h("input", {
      type: "search",
      class: "form-control",
      id: "discovery-q",
      name: "q",
      value: this.filters.get("q") || "",
      placeholder: "Search by name, skill or description",
      autocomplete: "off",
    });
    const searchForm = h(
      "form",
      { class: "d-flex gap-2 mb-3", role: "search", "aria-label": "Search agents" },
      h("label", { class: "visually-hidden", for: "discovery-q" }, "Search agents"),
      this.searchBox,
      h("button", { type: "submit", class: "btn btn-primary text-nowrap", "aria-label": "Search" }, icon("search"), h("span", { class: "d-none d-sm-inline" }, " Search")),
    );
    searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.setFilter("q", this.searchBox.value.trim());
    });
    this.federationSwitch = h("input", {
      class: "form-check-input",
      type: "checkbox",
      role: "switch",
      id: "discovery-federated",
      checked: this.filters.get("include_federated") === "true",
      onchange: (event) => this.setFilter("include_federated", event.target.checked ? "true" : ""),
    });
    container.append(
      h(
        "div",
        { class: "d-flex flex-wrap justify-content-between align-items-end gap-2 mb-3" },
        h("div", {}, h("h1", { class: "mb-1" }, "Discover agents"), this.summary),
        h(
          "div",
          { class: "d-flex flex-wrap align-items-center gap-3" },
          h("div", { class: "form-check form-switch mb-0" }, this.federationSwitch, h("label", { class: "form-check-label", for: "discovery-federated" }, icon("globe2"), " Include federated registries")),
          this.layoutToggle(),
          h("a", { class: "btn btn-outline-primary btn-sm", href: `/ui/discovery/map${this.filters.get("include_federated") ? "?include_federated=true" : ""}` }, icon("stars"), " Galactic Map"),
        ),
      ),
      searchForm,
      h(
        "button",
        { class: "btn btn-outline-secondary w-100 mb-3 d-lg-none", type: "button", "data-bs-toggle": "collapse", "data-bs-target": "#discovery-filters", "aria-controls": "discovery-filters", "aria-expanded": "false" },
        icon("funnel"),
        " Filters",
        this.filterCount,
      ),
      h("div", { class: "row g-4" }, h("aside", { class: "col-lg-3", "aria-label": "Filters" }, this.sidebar), h("div", { class: "col-lg-9" }, this.federation, this.results)),
    );
    this.capabilities = await this.topCapabilities();
    await this.search();
  }

  afterRender() {
    if (this.params.agent_id) this.openFromLink(this.params.agent_id);
  }

  async topCapabilities() {
    try {
      const answer = await this.api.get("/api/v1/discovery/capabilities", { query: { limit: TOP_CAPABILITIES }, signal: this.signal });
      return answer.capabilities;
    } catch (error) {
      if (error.name === "AbortError") throw error;
      return [];
    }
  }

  layoutToggle() {
    const button = (value, label, iconName) =>
      h(
        "button",
        {
          type: "button",
          class: `btn btn-sm ${this.layout === value ? "btn-primary" : "btn-outline-primary"}`,
          "aria-pressed": String(this.layout === value),
          "aria-label": label,
          title: label,
          onclick: () => {
            this.layout = value;
            writePrefs({ discoveryLayout: value });
            this.drawResults();
            for (const other of buttons) {
              const on = other.dataset.layout === value;
              other.className = `btn btn-sm ${on ? "btn-primary" : "btn-outline-primary"}`;
              other.setAttribute("aria-pressed", String(on));
            }
          },
          dataset: { layout: value },
        },
        icon(iconName),
      );
    const buttons = [button("grid", "Show as a grid", "grid-3x3-gap"), button("list", "Show as a list", "list-ul")];
    return h("div", { class: "btn-group", role: "group", "aria-label": "Layout" }, buttons);
  }

  /** The query sent to the API: the filters, facets, and the page. */
  apiQuery(cursor) {
    const query = Object.fromEntries(this.filters);
    query.facets = "true";
    query.per_page = String(PER_PAGE);
    if (cursor) query.cursor = cursor;
    return query;
  }

  setFilter(name, value) {
    if (value) this.filters.set(name, value);
    else this.filters.delete(name);
    this.syncUrl();
    this.search();
  }

  syncUrl() {
    const query = this.filters.toString();
    const path = this.detailPath || "/ui/discovery";
    window.history.replaceState(window.history.state, "", query ? `${path}?${query}` : path);
  }

  activeFilterCount() {
    return [...this.filters.keys()].filter((name) => !NOT_FILTERS.has(name) && name !== "q").length;
  }

  async search() {
    const generation = (this.generation = (this.generation || 0) + 1);
    replaceChildren(this.results, loadingState("Searching…"));
    this.results.setAttribute("aria-busy", "true");
    try {
      const answer = await this.api.get(SEARCH, { query: this.apiQuery(), signal: this.signal });
      if (generation !== this.generation) return;
      this.answer = answer;
      this.agents = answer.agents;
      this.drawSidebar(answer.facets);
      this.drawFederation(answer.federation_status);
      this.drawSummary(answer);
      this.drawResults();
    } catch (error) {
      if (error.name === "AbortError" || generation !== this.generation) return;
      this.agents = [];
      this.drawSidebar(null);
      replaceChildren(this.federation);
      replaceChildren(this.summary, "");
      const clear = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary ms-2", onclick: () => this.clearFilters() }, "Clear filters");
      replaceChildren(this.results, errorState(error, () => this.search()), this.activeFilterCount() ? clear : null);
    } finally {
      if (generation === this.generation) this.results.setAttribute("aria-busy", "false");
    }
  }

  async loadMore(button) {
    await busy(
      button,
      async () => {
        const answer = await this.api.get(SEARCH, { query: this.apiQuery(this.answer.pagination.next_cursor), signal: this.signal });
        this.answer = { ...this.answer, pagination: answer.pagination };
        this.agents = [...this.agents, ...answer.agents];
        this.drawResults();
      },
      "Loading…",
    ).catch((error) => {
      if (error.name !== "AbortError") replaceChildren(this.results.querySelector("[data-load-more]"), errorState(error, () => this.drawResults()));
    });
  }

  clearFilters() {
    const federated = this.filters.get("include_federated");
    this.filters = new URLSearchParams(federated ? { include_federated: federated } : {});
    this.searchBox.value = "";
    this.syncUrl();
    this.search();
  }

  drawSummary(answer) {
    const total = answer.pagination.total;
    const counted = answer.pagination.total_exact === false ? `${formatCount(total)}+` : formatCount(total);
    const noun = total === 1 ? "agent" : "agents";
    const text = this.filters.get("q") ? `${counted} ${noun} match${total === 1 ? "es" : ""} “${this.filters.get("q")}”` : `${counted} ${noun}`;
    replaceChildren(this.summary, text);
    this.filterCount.textContent = String(this.activeFilterCount());
  }

  drawFederation(status) {
    if (!status || !status.requested) {
      replaceChildren(this.federation);
      return;
    }
    const peerBadge = (peer) => {
      const kind = { ok: "success", timeout: "warning", error: "danger", skipped: "secondary" }[peer.status] || "secondary";
      const latency = typeof peer.latency_ms === "number" ? ` · ${Math.round(peer.latency_ms)} ms` : "";
      return h(
        "li",
        { class: "list-inline-item", dataset: { peer: peer.name, peerStatus: peer.status } },
        h("span", { class: `badge text-bg-${kind}` }, peer.status === "ok" ? icon("check-circle") : icon("exclamation-circle"), " ", peer.name, ` (${peer.status === "ok" ? "answered" : peer.status}${latency}${peer.cached ? ", cached" : ""})`),
      );
    };
    replaceChildren(
      this.federation,
      h(
        "div",
        { class: "alert alert-light border d-flex flex-wrap gap-2 align-items-center py-2", role: "status" },
        h("span", {}, icon("globe2"), ` ${status.peers_responded} of ${status.peers_queried} peer registries answered in ${Math.round(status.query_time_ms)} ms:`),
        status.peers.length ? h("ul", { class: "list-inline mb-0" }, status.peers.map(peerBadge)) : h("span", {}, "this registry has no peers yet."),
      ),
    );
  }

  drawResults() {
    if (!this.agents) return;
    if (!this.agents.length) {
      replaceChildren(
        this.results,
        emptyState({
          iconName: "search",
          title: "No agents match",
          text: this.activeFilterCount() || this.filters.get("q") ? "Try fewer filters or other words." : "No agent is registered here yet.",
          action: this.activeFilterCount() || this.filters.get("q") ? h("button", { type: "button", class: "btn btn-outline-primary", onclick: () => this.clearFilters() }, "Clear filters") : h("a", { class: "btn btn-primary", href: "/ui/developer/agents/new" }, "Register an agent"),
        }),
      );
      return;
    }
    const items = this.layout === "list" ? h("div", { class: "list-group mb-3" }, this.agents.map((agent) => this.listItem(agent))) : h("div", { class: "row g-3 mb-3" }, this.agents.map((agent) => this.gridCard(agent)));
    const next = this.answer.pagination.next_cursor;
    const more = next ? h("button", { type: "button", class: "btn btn-outline-primary", onclick: (event) => this.loadMore(event.currentTarget) }, "Load more agents") : null;
    replaceChildren(this.results, items, h("div", { class: "text-center", "data-load-more": "" }, more));
  }

  detailLink(agent, ...children) {
    const query = this.filters.toString();
    const href = `/ui/discovery/agents/${encodeURIComponent(agent.id)}${query ? `?${query}` : ""}`;
    return h("a", { href, class: "stretched-link text-decoration-none", onclick: (event) => this.openDetail(event, agent, href) }, children);
  }

  gridCard(agent) {
    const origin = originOf(agent);
    return h(
      "div",
      { class: "col-sm-6 col-xl-4" },
      h(
        "article",
        { class: "card h-100 agent-card", dataset: { agentId: agent.id } },
        h(
          "div",
          { class: "card-body d-flex flex-column" },
          h("div", { class: "d-flex justify-content-between gap-2 mb-1" }, h("h2", { class: "h6 card-title mb-0" }, this.detailLink(agent, agent.name)), origin.local ? null : h("span", { class: "badge text-bg-warning text-nowrap", dataset: { origin: origin.label } }, icon("globe2"), " ", origin.label)),
          h("p", { class: "card-text small agent-description" }, agent.description),
          h("div", { class: "d-flex flex-wrap gap-1 mb-2" }, (agent.capabilities || []).slice(0, 5).map((capability) => h("span", { class: "badge rounded-pill text-bg-light border" }, capability))),
          h("div", { class: "mt-auto d-flex flex-wrap gap-1 small" }, agentBadges(agent), (agent.a2a?.protocolBindings || []).map((binding) => h("span", { class: "badge text-bg-primary" }, binding))),
        ),
      ),
    );
  }

  listItem(agent) {
    const origin = originOf(agent);
    return h(
      "div",
      { class: "list-group-item position-relative", dataset: { agentId: agent.id } },
      h(
        "div",
        { class: "d-flex flex-wrap justify-content-between gap-2" },
        h("h2", { class: "h6 mb-1" }, this.detailLink(agent, agent.name)),
        h("div", { class: "d-flex flex-wrap gap-1" }, agentBadges(agent), origin.local ? null : h("span", { class: "badge text-bg-warning", dataset: { origin: origin.label } }, icon("globe2"), " ", origin.label)),
      ),
      h("p", { class: "small mb-0" }, agent.description),
    );
  }

  async openDetail(event, agent, href) {
    event.preventDefault();
    const back = window.location.pathname + window.location.search;
    window.history.pushState({}, "", href);
    this.detailPath = new URL(href, window.location.origin).pathname;
    await openAgentDetail(this, agent);
    this.detailPath = null;
    // Closing replaces the agent's address with the grid's, filters kept.
    if (window.location.pathname.startsWith("/ui/discovery/agents/")) window.history.replaceState({}, "", back.startsWith("/ui/discovery/agents/") ? `/ui/discovery${window.location.search}` : back);
  }

  /** A deep link to /ui/discovery/agents/:id: the grid with that agent's modal open. */
  async openFromLink(agentId) {
    let agent = (this.agents || []).find((item) => item.id === agentId || item.did === agentId || item.humanReadableId === agentId);
    if (!agent) {
      try {
        agent = { ...(await this.api.get(`/api/v1/agents/${encodeURIComponent(agentId)}`, { signal: this.signal })), is_federated: false };
      } catch (error) {
        if (error.name === "AbortError") return;
        this.detailPath = null;
        this.syncUrl();
        replaceChildren(this.federation, h("div", { class: "alert alert-warning", role: "alert" }, icon("exclamation-triangle"), ` No agent ${agentId} here: ${error.message}`));
        return;
      }
    }
    this.detailPath = window.location.pathname;
    await openAgentDetail(this, agent);
    this.detailPath = null;
    if (window.location.pathname.startsWith("/ui/discovery/agents/")) this.syncUrl();
  }

  drawSidebar(facets) {
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
      this.activeFilterCount() ? h("button", { type: "button", class: "btn btn-outline-secondary btn-sm w-100", onclick: () => this.clearFilters() }, icon("x-circle"), " Clear filters") : null,
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
      timer = this.later(TEXT_DELAY_MS, () => this.setFilter(name, input.value.trim()));
    });
    return h("div", { class: "mb-2" }, h("label", { class: "form-label small mb-1", for: id }, label), input);
  }
}

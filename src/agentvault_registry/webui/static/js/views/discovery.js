// Discovery: agent cards in a grid (or a list) with every discovery filter in a sidebar,
// facet counts beside the values, the federation toggle with the peers that answered, and
// the agent detail modal. The filters live in the URL, so a reload or a shared link keeps them.

import { emptyState, errorState, formatCount, h, icon, loadingState, replaceChildren } from "../core/dom.js";
import { busy } from "../core/forms.js";
import { readPrefs, writePrefs } from "../core/prefs.js";
import { View } from "../core/view.js";
import { agentBadges, openAgentDetail, originOf } from "../components/agent_detail.js";
import { DiscoveryFilters } from "../components/discovery_filters.js";
import { federationStatus } from "../components/federation_status.js";

const SEARCH = "/api/v1/discovery/agents";
const PER_PAGE = 24;
const TOP_CAPABILITIES = 15;
/** Parameters that are the view's own, not filters. */
const NOT_FILTERS = new Set(["sort", "include_federated", "cursor"]);


export default class DiscoveryView extends View {
  async render(container) {
    this.filters = new URLSearchParams(this.query);
    this.filters.delete("cursor");
    this.layout = readPrefs().discoveryLayout;
    this.results = h("div", { "aria-live": "polite", "data-results": "" });
    this.summary = h("p", { class: "mb-0 text-body-secondary", "data-result-summary": "" });
    this.federation = h("div", { "data-federation-status": "" });
    this.sidebar = h("div", { class: "collapse d-lg-block", id: "discovery-filters" });
    this.sidebarFilters = new DiscoveryFilters(this, this.sidebar);
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
      this.sidebarFilters.draw(answer.facets);
      this.drawFederation(answer.federation_status);
      this.drawSummary(answer);
      this.drawResults();
    } catch (error) {
      if (error.name === "AbortError" || generation !== this.generation) return;
      this.agents = [];
      this.sidebarFilters.draw(null);
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
    replaceChildren(this.federation, federationStatus(status));
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
}

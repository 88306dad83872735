// The front page: what the registry is, how much it holds right now, and a search box.

import { formatCount, h, icon, replaceChildren } from "../core/dom.js";
import { View } from "../core/view.js";

const COUNTS_EVERY_MS = 30_000;
const CAPABILITY_COUNT_LIMIT = 1000;
const TOP_CAPABILITIES = 12;

function statCard(label, valueNode, iconName) {
  return h(
    "div",
    { class: "col-sm-4" },
    h(
      "div",
      { class: "card h-100" },
      h("div", { class: "card-body" }, h("div", { class: "text-body-secondary small" }, icon(iconName), " ", label), valueNode),
    ),
  );
}

export default class HomeView extends View {
  async render(container) {
    this.agentCount = h("div", { class: "stat-value", "data-stat": "agents" }, "…");
    this.capabilityCount = h("div", { class: "stat-value", "data-stat": "capabilities" }, "…");
    this.topCapabilities = h("div", { class: "d-flex flex-wrap gap-2 mt-2", "data-stat": "top-capabilities" });
    const search = h("input", {
      class: "form-control form-control-lg",
      type: "search",
      name: "q",
      id: "home-search",
      placeholder: "Search agents by name, skill or description",
      autocomplete: "off",
    });
    const form = h(
      "form",
      { class: "d-flex gap-2 mt-4", role: "search", "aria-label": "Search agents" },
      h("label", { class: "visually-hidden", for: "home-search" }, "Search agents"),
      search,
      h("button", { class: "btn btn-primary btn-lg text-nowrap", type: "submit", "aria-label": "Search" }, icon("search"), h("span", { class: "d-none d-sm-inline" }, " Search")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const q = search.value.trim();
      this.router.navigate(q ? `/ui/discovery?q=${encodeURIComponent(q)}` : "/ui/discovery");
    });
    container.append(
      h(
        "section",
        { class: "hero mb-4" },
        h("h1", { class: "display-5 fw-semibold" }, this.context.config.registry_name),
        h(
          "p",
          { class: "lead text-body-secondary col-lg-9" },
          "A registry of AI agents described by A2A Agent Cards. Developers register agents, agents onboard themselves with single-use bootstrap tokens, and clients discover them here and across federated registries.",
        ),
        form,
      ),
      h(
        "div",
        { class: "row g-3 mb-4" },
        statCard("Active agents", this.agentCount, "robot"),
        statCard("Distinct capabilities", this.capabilityCount, "diagram-3"),
        statCard(
          "Explore",
          h(
            "div",
            { class: "d-flex flex-wrap gap-2 mt-2" },
            h("a", { class: "btn btn-outline-primary btn-sm", href: "/ui/discovery" }, icon("grid-3x3-gap"), " Browse agents"),
            h("a", { class: "btn btn-outline-primary btn-sm", href: "/ui/discovery/map" }, icon("stars"), " Galactic Map"),
          ),
          "compass",
        ),
      ),
      h("section", { "aria-labelledby": "top-capabilities-heading" }, h("h2", { class: "h5", id: "top-capabilities-heading" }, "Popular capabilities"), this.topCapabilities),
    );
    await this.loadCounts();
  }

  afterRender() {
    this.every(COUNTS_EVERY_MS, () => this.loadCounts());
  }

  async loadCounts() {
    try {
      const [agents, capabilities] = await Promise.all([
        this.api.get("/api/v1/discovery/agents", { query: { per_page: 1 }, signal: this.signal }),
        this.api.get("/api/v1/discovery/capabilities", { query: { limit: CAPABILITY_COUNT_LIMIT }, signal: this.signal }),
      ]);
      const total = agents.pagination.total;
      this.agentCount.textContent = agents.pagination.total_exact === false ? `${formatCount(total)}+` : formatCount(total);
      const known = capabilities.capabilities;
      this.capabilityCount.textContent = formatCount(known.length) + (known.length >= CAPABILITY_COUNT_LIMIT ? "+" : "");
      replaceChildren(
        this.topCapabilities,
        known.length
          ? known.slice(0, TOP_CAPABILITIES).map((item) =>
              h("a", { class: "badge rounded-pill text-bg-secondary text-decoration-none fs-6 fw-normal", href: `/ui/discovery?capabilities=${encodeURIComponent(item.capability)}` }, `${item.capability} · ${item.count}`),
            )
          : h("p", { class: "text-body-secondary" }, "No agents are registered yet. ", h("a", { href: "/ui/register" }, "Create an account"), " and register the first."),
      );
    } catch (error) {
      if (error.name === "AbortError") return;
      this.agentCount.textContent = "—";
      this.capabilityCount.textContent = "—";
      replaceChildren(this.topCapabilities, h("p", { class: "text-danger" }, `Counts are unavailable: ${error.message}`));
    }
  }
}

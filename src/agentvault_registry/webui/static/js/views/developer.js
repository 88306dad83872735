// The developer portal: my agents (edited in place, with optimistic concurrency), bootstrap
// tokens, API keys and usage, each section a tab that is a route of its own.

import { apiKeysPanel } from "../components/api_keys.js";
import { bootstrapTokensPanel } from "../components/bootstrap_tokens.js";
import { agentsSection } from "../components/developer_agents.js";
import { usageSection } from "../components/developer_usage.js";
import { h, icon, replaceChildren } from "../core/dom.js";
import { View } from "../core/view.js";

const SECTIONS = [
  { id: "agents", label: "Agents", iconName: "robot", path: "/ui/developer", build: agentsSection },
  { id: "tokens", label: "Bootstrap tokens", iconName: "ticket-perforated", path: "/ui/developer/tokens", build: bootstrapTokensPanel },
  { id: "keys", label: "API keys", iconName: "key", path: "/ui/developer/keys", build: apiKeysPanel },
  { id: "usage", label: "Usage", iconName: "graph-up", path: "/ui/developer/usage", build: usageSection },
];
const PANEL_ID = "developer-section";

function sectionFor(name) {
  if (!name) return SECTIONS[0];
  return SECTIONS.find((section) => section.id === name) || null;
}

function isPlainLeftClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

export default class DeveloperView extends View {
  async render(container) {
    await super.render(container);
    const requested = sectionFor(this.params.section);
    this.panel = h("div", { id: PANEL_ID, role: "tabpanel", class: "developer-panel pt-4", tabindex: "0" });
    this.tabs = SECTIONS.map((section) => this.tab(section));
    this.onDestroy(() => this.sectionScope && this.sectionScope.destroy());
    container.append(
      h(
        "div",
        { class: "d-flex flex-wrap align-items-start justify-content-between gap-3 mb-3" },
        h(
          "div",
          {},
          h("h1", { class: "mb-1" }, "Developer portal"),
          h("p", { class: "text-body-secondary mb-0" }, "Your agents, the tokens agents onboard with, your API keys and how much you use the registry."),
        ),
        h("a", { class: "btn btn-primary", href: "/ui/developer/agents/new" }, icon("plus-lg"), " Register an agent"),
      ),
      h("div", { class: "nav nav-tabs developer-tabs", role: "tablist", "aria-label": "Developer portal sections" }, this.tabs),
      this.panel,
    );
    if (requested) this.show(requested);
    else this.showUnknown();
  }

  tab(section) {
    const link = h(
      "a",
      { class: "nav-link", href: section.path, role: "tab", id: `developer-tab-${section.id}`, "aria-controls": PANEL_ID, "aria-selected": "false", tabindex: "-1", dataset: { section: section.id } },
      icon(section.iconName),
      " ",
      section.label,
    );
    link.addEventListener("click", (event) => {
      if (!isPlainLeftClick(event)) return;
      // The section changes in place (the router would re-render the page and move focus to
      // its heading); the address still changes, so reload and back keep the section.
      event.preventDefault();
      event.stopPropagation();
      this.select(section);
    });
    link.addEventListener("keydown", (event) => this.onTabKey(event, section));
    return link;
  }

  /** Arrows, Home and End move between the tabs; Enter or Space opens one. */
  onTabKey(event, section) {
    const index = SECTIONS.indexOf(section);
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: SECTIONS.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      const target = this.tabs[(moves[event.key] + SECTIONS.length) % SECTIONS.length];
      for (const tab of this.tabs) tab.tabIndex = tab === target ? 0 : -1;
      target.focus();
    } else if (event.key === " ") {
      event.preventDefault();
      this.select(section);
    }
  }

  select(section) {
    if (window.location.pathname !== section.path) window.history.pushState({}, "", section.path);
    this.show(section);
  }

  show(section) {
    for (const tab of this.tabs) {
      const selected = tab.dataset.section === section.id;
      tab.classList.toggle("active", selected);
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    this.panel.setAttribute("aria-labelledby", `developer-tab-${section.id}`);
    // Each section gets a scope of its own: its requests, timers and charts end when another
    // section replaces it, not only when the user leaves the portal.
    if (this.sectionScope) this.sectionScope.destroy();
    this.sectionScope = new View(this.context, this.params, this.query);
    replaceChildren(this.panel, section.build(this.sectionScope));
  }

  showUnknown() {
    this.tabs[0].tabIndex = 0;
    this.panel.setAttribute("aria-label", "Unknown section");
    replaceChildren(
      this.panel,
      h("div", { class: "alert alert-warning", role: "alert" }, `The developer portal has no section “${this.params.section}”. `, h("a", { href: "/ui/developer" }, "Go to your agents"), "."),
    );
  }
}

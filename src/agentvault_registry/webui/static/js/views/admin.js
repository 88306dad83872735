// The admin portal: monitoring, federation peers, users and analytics, each a tab that is a
// route of its own (/ui/admin, /ui/admin/peers, ...), so a section survives a reload and
// can be linked to.

import { h, icon } from "../core/dom.js";
import { View } from "../core/view.js";
import { AnalyticsSection } from "../components/admin_analytics.js";
import { OverviewSection } from "../components/admin_overview.js";
import { PeersSection } from "../components/admin_peers.js";
import { UsersSection } from "../components/admin_users.js";

const SECTIONS = [
  { slug: "", label: "Monitoring", iconName: "activity", Section: OverviewSection },
  { slug: "peers", label: "Peers", iconName: "diagram-3", Section: PeersSection },
  { slug: "users", label: "Users", iconName: "people", Section: UsersSection },
  { slug: "analytics", label: "Analytics", iconName: "bar-chart-line", Section: AnalyticsSection },
];

function sectionPath(slug) {
  return slug ? `/ui/admin/${slug}` : "/ui/admin";
}

/** The section links; Left/Right/Home/End move between them as in a tab list. */
function sectionTabs(current) {
  const links = SECTIONS.map((section) =>
    h(
      "a",
      {
        class: ["nav-link", section === current && "active"],
        href: sectionPath(section.slug),
        "aria-current": section === current ? "page" : null,
        dataset: { adminSection: section.slug || "overview" },
      },
      h("span", { class: "d-none d-sm-inline" }, icon(section.iconName), " "),
      section.label,
    ),
  );
  const list = h("ul", { class: "nav nav-tabs admin-tabs mb-4" }, links.map((link) => h("li", { class: "nav-item" }, link)));
  list.addEventListener("keydown", (event) => {
    const index = links.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: links.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    links[(moves[event.key] + links.length) % links.length].focus();
  });
  return h("nav", { "aria-label": "Admin sections" }, list);
}

export default class AdminView extends View {
  async render(container) {
    await super.render(container);
    const slug = this.params.section || "";
    const current = SECTIONS.find((section) => section.slug === slug);
    container.append(
      h("h1", { class: "mb-3" }, icon("shield-lock"), " Admin portal"),
      sectionTabs(current),
    );
    if (!current) {
      container.append(
        h(
          "div",
          { class: "state text-center", "data-state": "empty" },
          h("p", { class: "fw-semibold" }, `There is no admin section called “${slug}”.`),
          h("a", { class: "btn btn-primary", href: "/ui/admin" }, "Go to monitoring"),
        ),
      );
      return;
    }
    document.title = `${current.label} · ${document.title}`;
    const body = h("section", { "aria-label": current.label, dataset: { adminBody: current.slug || "overview" } });
    container.append(body);
    this.section = new current.Section(this);
    await this.section.render(body);
  }

  afterRender() {
    this.section?.afterRender?.();
  }
}

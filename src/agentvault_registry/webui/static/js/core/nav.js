// The navigation bar: every view's entry for this visitor (plugins' views included), the
// account menu, and the current page marked for sighted and screen-reader users alike.

import { h, icon, replaceChildren } from "./dom.js";

function visibleTo(view, session) {
  if (!view.nav) return false;
  if (view.access === "admin") return session.isAdmin;
  if (view.access === "user") return session.signedIn;
  if (view.access === "guest") return !session.signedIn;
  return true;
}

function navLink(view) {
  return h(
    "li",
    { class: "nav-item" },
    h("a", { class: "nav-link", href: view.path, dataset: { navPath: view.path } }, view.nav.icon ? [icon(view.nav.icon), " "] : null, view.nav.label),
  );
}

export class Navigation {
  constructor({ header, views, session, registryName }) {
    this.header = header;
    this.views = views;
    this.session = session;
    this.registryName = registryName;
  }

  render() {
    const session = this.session;
    const entries = this.views.filter((view) => visibleTo(view, session));
    const main = entries.filter((view) => view.nav.section !== "account");
    const account = entries.filter((view) => view.nav.section === "account");
    const collapseId = "app-nav-links";
    replaceChildren(
      this.header,
      h(
        "nav",
        { class: "navbar navbar-expand-lg border-bottom bg-body-tertiary", "aria-label": "Main" },
        h(
          "div",
          { class: "container-xl" },
          h("a", { class: "navbar-brand d-flex align-items-center gap-2", href: "/" }, icon("stars"), h("span", {}, this.registryName)),
          h(
            "button",
            {
              class: "navbar-toggler",
              type: "button",
              "data-bs-toggle": "collapse",
              "data-bs-target": `#${collapseId}`,
              "aria-controls": collapseId,
              "aria-expanded": "false",
              "aria-label": "Show navigation",
            },
            h("span", { class: "navbar-toggler-icon" }),
          ),
          h(
            "div",
            { class: "collapse navbar-collapse", id: collapseId },
            h("ul", { class: "navbar-nav me-auto" }, main.map(navLink)),
            session.signedIn ? this.accountMenu(account) : this.guestLinks(),
          ),
        ),
      ),
    );
    this.markActive(window.location.pathname);
  }

  accountMenu(entries) {
    const user = this.session.user;
    return h(
      "ul",
      { class: "navbar-nav" },
      h(
        "li",
        { class: "nav-item dropdown" },
        h(
          "button",
          { class: "nav-link dropdown-toggle", type: "button", "data-bs-toggle": "dropdown", "aria-expanded": "false", id: "account-menu" },
          icon("person-circle"),
          " ",
          user.username,
          user.role === "admin" ? h("span", { class: "badge text-bg-warning ms-2" }, "admin") : null,
        ),
        h(
          "ul",
          { class: "dropdown-menu dropdown-menu-end", "aria-labelledby": "account-menu" },
          entries.map((view) => h("li", {}, h("a", { class: "dropdown-item", href: view.path }, view.nav.icon ? [icon(view.nav.icon), " "] : null, view.nav.label))),
          h("li", {}, h("hr", { class: "dropdown-divider" })),
          h("li", {}, h("button", { class: "dropdown-item", type: "button", dataset: { action: "logout" } }, icon("box-arrow-right"), " Sign out")),
        ),
      ),
    );
  }

  guestLinks() {
    return h(
      "div",
      { class: "d-flex gap-2" },
      h("a", { class: "btn btn-outline-primary btn-sm", href: "/ui/login" }, "Sign in"),
      h("a", { class: "btn btn-primary btn-sm", href: "/ui/register" }, "Create an account"),
    );
  }

  markActive(pathname) {
    let best = null;
    for (const link of this.header.querySelectorAll("[data-nav-path]")) {
      link.classList.remove("active");
      link.removeAttribute("aria-current");
      const path = link.dataset.navPath;
      const covers = pathname === path || (path !== "/" && pathname.startsWith(`${path}/`));
      if (covers && (!best || path.length > best.dataset.navPath.length)) best = link;
    }
    if (best) {
      best.classList.add("active");
      best.setAttribute("aria-current", "page");
    }
  }
}

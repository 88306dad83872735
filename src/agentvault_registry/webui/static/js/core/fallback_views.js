// Pages the router shows itself: an unknown path, and an admin page for someone who is not.

import { h, icon } from "./dom.js";
import { View } from "./view.js";

export class NotFoundView extends View {
  async render(container) {
    container.append(
      h("h1", {}, "Page not found"),
      h("p", { class: "lead" }, `Nothing lives at ${window.location.pathname}.`),
      h("a", { class: "btn btn-primary", href: "/" }, icon("house"), " Home"),
    );
  }
}

export class ForbiddenView extends View {
  async render(container) {
    container.append(
      h("h1", {}, "Admins only"),
      h("p", { class: "lead" }, "This page is for the registry's administrators."),
      h("a", { class: "btn btn-primary", href: "/ui/dashboard" }, "Back to your dashboard"),
    );
  }
}

// History-API routing: a path selects a view (the register_webui_views table the server sent),
// links inside the app navigate without a reload, and deep links load the same shell, so every
// route survives a reload.

import { errorState, h, loadingState, replaceChildren } from "./dom.js";

function compile(path) {
  const names = [];
  const source = path
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { regex: new RegExp(`^${source}/?$`), names };
}

function isPlainLeftClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

export class Router {
  constructor({ views, outlet, context, registryName, fallbackViews }) {
    this.routes = views.map((view) => ({ ...view, ...compile(view.path) }));
    this.outlet = outlet;
    this.context = context;
    this.registryName = registryName;
    this.fallbackViews = fallbackViews;
    this.current = null;
    this.generation = 0;
    this.listeners = new Set();
  }

  start() {
    window.addEventListener("popstate", () => this.render());
    document.addEventListener("click", (event) => this.interceptLink(event));
    return this.render();
  }

  match(pathname) {
    for (const route of this.routes) {
      const found = route.regex.exec(pathname);
      if (found) {
        const params = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(found[index + 1])]));
        return { route, params };
      }
    }
    return null;
  }

  interceptLink(event) {
    const link = event.target.closest("a[href]");
    // A view that handled the click itself (opening a modal) has the last word.
    if (!link || event.defaultPrevented || !isPlainLeftClick(event) || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || !this.match(url.pathname)) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search + url.hash);
  }

  navigate(url, { replace = false } = {}) {
    const current = window.location.pathname + window.location.search + window.location.hash;
    if (url !== current) {
      if (replace) window.history.replaceState({}, "", url);
      else window.history.pushState({}, "", url);
    }
    return this.render();
  }

  /** Re-render the current route (after sign-in or sign-out changes who may see it). */
  refresh() {
    return this.render();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  /** Where an access rule sends this visitor instead, or null to stay. */
  redirectFor(route) {
    const session = this.context.session;
    const here = window.location.pathname + window.location.search;
    if ((route.access === "user" || route.access === "admin") && !session.signedIn) {
      return `/ui/login?next=${encodeURIComponent(here)}`;
    }
    if (route.access === "guest" && session.signedIn) {
      const next = new URLSearchParams(window.location.search).get("next");
      return next && next.startsWith("/") && !next.startsWith("//") ? next : "/ui/dashboard";
    }
    return null;
  }

  async render() {
    const generation = ++this.generation;
    const found = this.match(window.location.pathname);
    if (found) {
      const redirect = this.redirectFor(found.route);
      if (redirect) return this.navigate(redirect, { replace: true });
    }
    if (this.current) {
      this.current.destroy();
      this.current = null;
    }
    this.outlet.setAttribute("aria-busy", "true");
    replaceChildren(this.outlet, loadingState());
    let route;
    let ViewClass;
    let params = {};
    try {
      if (!found) {
        route = { title: "Not found" };
        ViewClass = this.fallbackViews.notFound;
      } else if (found.route.access === "admin" && !this.context.session.isAdmin) {
        route = { title: "Admins only" };
        ViewClass = this.fallbackViews.forbidden;
      } else {
        route = found.route;
        params = found.params;
        ViewClass = (await import(route.module)).default;
      }
    } catch (error) {
      if (generation === this.generation) {
        replaceChildren(this.outlet, errorState(new Error(`This page could not be loaded: ${error.message}`), () => this.render()));
        this.outlet.setAttribute("aria-busy", "false");
      }
      return;
    }
    if (generation !== this.generation) return;
    const view = new ViewClass(this.context, params, new URLSearchParams(window.location.search));
    this.current = view;
    document.title = `${route.title} · ${this.registryName}`;
    const container = h("div", { class: "view" });
    try {
      await view.render(container);
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(container, errorState(error, () => this.render()));
    }
    if (generation !== this.generation) return;
    replaceChildren(this.outlet, container);
    this.outlet.setAttribute("aria-busy", "false");
    view.afterRender();
    for (const listener of this.listeners) listener(found ? found.route : null);
    this.focusHeading(container);
  }

  /** Move focus to the new page's heading, as a screen reader user expects after navigation. */
  focusHeading(container) {
    if (!this.started) {
      this.started = true;
      return;
    }
    const heading = container.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
}

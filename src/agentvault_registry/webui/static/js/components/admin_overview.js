// Monitoring, the admin portal's first tab: is the registry up and ready (each backend
// check), what it holds, how its federation peers are doing, and who did what lately.

import { errorMessage, formatCount, h, icon, replaceChildren, spinner } from "../core/dom.js";
import { ActivityFeed } from "./admin_activity.js";
import { peerStatusBadge } from "./admin_ui.js";

const REFRESH_EVERY_MS = 15_000;
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

function card(title, iconName, body, footer) {
  return h(
    "div",
    { class: "col-md-6 col-xl-3" },
    h(
      "div",
      { class: "card h-100" },
      h("div", { class: "card-body" }, h("h2", { class: "h6 text-body-secondary mb-3" }, icon(iconName), " ", title), body),
      footer ? h("div", { class: "card-footer bg-transparent small" }, footer) : null,
    ),
  );
}

function countList(counts, emptyText) {
  const entries = Object.entries(counts).filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return h("p", { class: "text-body-secondary small mb-0" }, emptyText);
  return h(
    "ul",
    { class: "list-unstyled small mb-0" },
    entries.map(([name, count]) => h("li", { class: "d-flex justify-content-between" }, h("span", {}, name), h("span", { class: "fw-semibold" }, formatCount(count)))),
  );
}

function total(counts) {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

function failed(error) {
  return h("p", { class: "text-danger small mb-0" }, icon("exclamation-triangle"), " ", errorMessage(error));
}

export class OverviewSection {
  constructor(view) {
    this.view = view;
    this.api = view.api;
  }

  async render(container) {
    this.health = h("div", { dataset: { card: "health" } }, spinner());
    this.agents = h("div", { dataset: { card: "agents" } }, spinner());
    this.federation = h("div", { dataset: { card: "federation" } }, spinner());
    this.users = h("div", { dataset: { card: "users" } }, spinner());
    this.updated = h("span", { class: "text-body-secondary small", "aria-live": "polite" });
    this.autoRefresh = h("input", { class: "form-check-input", type: "checkbox", id: "admin-auto-refresh", checked: true });
    this.feed = new ActivityFeed(this.view);
    container.append(
      h(
        "div",
        { class: "d-flex flex-wrap align-items-center justify-content-between gap-2 mb-3" },
        h("h2", { class: "h4 mb-0" }, "Monitoring"),
        h(
          "div",
          { class: "d-flex flex-wrap align-items-center gap-3" },
          this.updated,
          h("div", { class: "form-check form-switch mb-0" }, this.autoRefresh, h("label", { class: "form-check-label", for: "admin-auto-refresh" }, "Auto-refresh")),
          h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onclick: () => this.refresh() }, icon("arrow-clockwise"), " Refresh"),
        ),
      ),
      h(
        "div",
        { class: "row g-3 mb-4" },
        card("Registry health", "heart-pulse", this.health, h("a", { href: "/ready" }, "Readiness JSON")),
        card("Agents", "robot", this.agents, h("a", { href: "/ui/admin/analytics" }, "Analytics")),
        card("Federation peers", "diagram-3", this.federation, h("a", { href: "/ui/admin/peers" }, "Manage peers")),
        card("Accounts", "people", this.users, h("a", { href: "/ui/admin/users" }, "Manage users")),
      ),
      this.feed.element(),
    );
    await Promise.all([this.refresh(), this.feed.reload()]);
  }

  afterRender() {
    this.view.every(REFRESH_EVERY_MS, () => {
      if (this.autoRefresh.checked && !document.hidden) this.refresh();
    });
  }

  async refresh() {
    await Promise.all([this.loadHealth(), this.loadAgents(), this.loadFederation(), this.loadUsers()]);
    this.updated.textContent = `Updated ${TIME.format(new Date())}`;
  }

  /** Run one card's loader; an error shows on that card only. */
  async guarded(target, load) {
    try {
      replaceChildren(target, await load());
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(target, failed(error));
    }
  }

  loadHealth() {
    return this.guarded(this.health, async () => {
      const signal = this.view.signal;
      const live = await this.api.get("/health", { auth: false, signal });
      let ready;
      try {
        ready = await this.api.get("/ready", { auth: false, signal });
      } catch (error) {
        // 503 names every failed dependency in details.checks.
        if (error.status !== 503) throw error;
        ready = { status: "not ready", checks: error.details.checks || {} };
      }
      const isReady = ready.status === "ready";
      return [
        h(
          "div",
          { class: "d-flex align-items-center gap-2 mb-2" },
          h("span", { class: `badge ${live.status === "ok" ? "text-bg-success" : "text-bg-danger"}` }, live.status === "ok" ? "Live" : live.status),
          h("span", { class: `badge ${isReady ? "text-bg-success" : "text-bg-danger"}`, dataset: { ready: String(isReady) } }, isReady ? "Ready" : "Not ready"),
        ),
        h(
          "ul",
          { class: "list-unstyled small mb-0", "aria-label": "Readiness checks" },
          Object.entries(ready.checks).map(([name, result]) =>
            h(
              "li",
              { class: "d-flex justify-content-between gap-2", dataset: { check: name } },
              h("span", {}, name),
              result === "ok"
                ? h("span", { class: "text-success-emphasis" }, icon("check-circle"), " ok")
                : h("span", { class: "text-danger-emphasis text-end" }, icon("x-circle"), " ", result),
            ),
          ),
        ),
      ];
    });
  }

  loadAgents() {
    return this.guarded(this.agents, async () => {
      const stats = await this.api.get("/api/v1/admin/stats", { query: { days: 1 }, signal: this.view.signal });
      return [
        h("div", { class: "stat-value mb-2" }, formatCount(total(stats.agents_by_status))),
        h("h3", { class: "h6 small text-body-secondary mb-1" }, "By status"),
        countList(stats.agents_by_status, "No agents are listed."),
        h("h3", { class: "h6 small text-body-secondary mt-2 mb-1" }, "By type"),
        countList(stats.agents_by_type, "—"),
      ];
    });
  }

  loadFederation() {
    return this.guarded(this.federation, async () => {
      const status = await this.api.get("/api/v1/admin/federation/status", { signal: this.view.signal });
      if (!status.peers.length) {
        return [h("div", { class: "stat-value mb-2" }, "0"), h("p", { class: "small text-body-secondary mb-0" }, "No peers yet. ", h("a", { href: "/ui/admin/peers" }, "Add one"), " to federate discovery.")];
      }
      const troubled = status.peers.filter((peer) => peer.status === "unhealthy" || peer.last_error);
      return [
        h("div", { class: "stat-value mb-2" }, formatCount(status.peers.length)),
        h(
          "div",
          { class: "d-flex flex-wrap gap-1 mb-2" },
          Object.entries(status.counts)
            .filter(([, count]) => count > 0)
            .map(([name, count]) => h("span", {}, peerStatusBadge(name), " ", h("span", { class: "small" }, formatCount(count)))),
        ),
        troubled.length
          ? h(
              "ul",
              { class: "list-unstyled small mb-0" },
              troubled.slice(0, 4).map((peer) =>
                h("li", {}, h("a", { href: `/ui/admin/peers/${peer.id}` }, peer.name), ": ", h("span", { class: "text-danger-emphasis" }, peer.last_error || "unhealthy")),
              ),
            )
          : h("p", { class: "small text-success-emphasis mb-0" }, icon("check-circle"), " No peer reports an error."),
      ];
    });
  }

  loadUsers() {
    return this.guarded(this.users, async () => {
      const count = (query) => this.api.get("/api/v1/admin/users", { query: { per_page: 1, ...query }, signal: this.view.signal }).then((page) => page.pagination.total);
      const [all, admins, inactive] = await Promise.all([count({}), count({ role: "admin" }), count({ is_active: "false" })]);
      return [
        h("div", { class: "stat-value mb-2" }, formatCount(all)),
        h(
          "ul",
          { class: "list-unstyled small mb-0" },
          h("li", { class: "d-flex justify-content-between" }, h("span", {}, "Admins"), h("span", { class: "fw-semibold" }, formatCount(admins))),
          h("li", { class: "d-flex justify-content-between" }, h("span", {}, "Deactivated"), h("span", { class: "fw-semibold" }, formatCount(inactive))),
        ),
      ];
    });
  }
}

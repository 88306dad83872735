// The landing page after sign-in: my agents, bootstrap tokens, API keys and recent activity,
// each loaded on its own (one failing never blanks the others), with the first steps for a
// developer who has none of them yet.

import { activityItem, refreshRelativeTimes, timeAgo } from "../components/dashboard_activity.js";
import { emptyState, errorState, formatCount, h, icon, loadingState, replaceChildren } from "../core/dom.js";
import { busy } from "../core/forms.js";
import { View } from "../core/view.js";

const LATEST_AGENTS = 5;
const ACTIVITY_PAGE = 10;
const STATUSES = ["active", "inactive", "deprecated"];
const STATUS_BADGES = { active: "text-bg-success", inactive: "text-bg-secondary", deprecated: "text-bg-warning", deleted: "text-bg-danger" };
const TOKEN_BADGES = { active: "text-bg-success", consumed: "text-bg-secondary", expired: "text-bg-light", revoked: "text-bg-danger" };
// Relative times ("expires in 3 minutes") and token states are redrawn this often.
const CLOCK_EVERY_MS = 15_000;

function greeting(date = new Date()) {
  const hour = date.getHours();
  if (hour < 5) return "Good evening";
  if (hour < 12) return "Good morning";
  if (hour < 18) return "Good afternoon";
  return "Good evening";
}

function card(id, title, iconName, headerLink, body) {
  return h(
    "section",
    { "aria-labelledby": `${id}-heading` },
    h(
      "div",
      { class: "card dashboard-card", id },
      h(
        "div",
        { class: "card-header d-flex align-items-center justify-content-between gap-2 bg-body" },
        h("h2", { class: "h6 mb-0", id: `${id}-heading` }, icon(iconName), " ", title),
        headerLink,
      ),
      h("div", { class: "card-body" }, body),
    ),
  );
}

function statusBadge(status, badges = STATUS_BADGES) {
  return h("span", { class: `badge ${badges[status] || "text-bg-secondary"}` }, status);
}

function isActiveToken(token, now = Date.now()) {
  return token.status === "active" && new Date(token.expires_at).getTime() > now;
}

export default class DashboardView extends View {
  async render(container) {
    await super.render(container);
    const user = this.session.user;
    this.agentsBody = h("div", { "data-section": "agents" }, loadingState("Loading your agents…"));
    this.tokensBody = h("div", { "data-section": "tokens" }, loadingState("Loading your bootstrap tokens…"));
    this.keysBody = h("div", { "data-section": "api-keys" }, loadingState("Loading your API keys…"));
    this.activityBody = h("div", { "data-section": "activity" }, loadingState("Loading your activity…"));
    this.gettingStarted = h("div", { "data-section": "getting-started" });
    this.activityEntries = [];
    replaceChildren(
      container,
      h(
        "div",
        { class: "d-flex flex-wrap align-items-end justify-content-between gap-3 mb-4" },
        h(
          "div",
          {},
          h("h1", { class: "h2 mb-1" }, `${greeting()}, ${user.username}`),
          h("p", { class: "text-body-secondary mb-0" }, `Your agents, tokens and keys in ${this.context.config.registry_name}.`),
        ),
        h(
          "nav",
          { class: "d-flex flex-wrap gap-2", "aria-label": "Quick actions" },
          h("a", { class: "btn btn-primary", href: "/ui/developer/agents/new" }, icon("plus-lg"), " Register an agent"),
          h("a", { class: "btn btn-outline-primary", href: "/ui/developer/tokens" }, icon("ticket-perforated"), " Generate a bootstrap token"),
          h("a", { class: "btn btn-outline-secondary", href: "/ui/dashboard/mission-control" }, icon("broadcast"), " Mission Control"),
        ),
      ),
      user.is_verified ? null : this.unverifiedNotice(user),
      this.gettingStarted,
      h(
        "div",
        { class: "row g-4" },
        h(
          "div",
          { class: "col-lg-7 d-flex flex-column gap-4" },
          card("dashboard-agents", "My agents", "robot", h("a", { class: "small", href: "/ui/developer" }, "Developer portal"), this.agentsBody),
          card("dashboard-tokens", "Bootstrap tokens", "ticket-perforated", h("a", { class: "small", href: "/ui/developer/tokens" }, "Manage tokens"), this.tokensBody),
          card("dashboard-keys", "API keys", "key", h("a", { class: "small", href: "/ui/developer/keys" }, "Manage keys"), this.keysBody),
        ),
        h("div", { class: "col-lg-5" }, card("dashboard-activity", "Recent activity", "clock-history", null, this.activityBody)),
      ),
    );
    await Promise.all([this.loadAgents(), this.loadTokens(), this.loadKeys(), this.loadActivity()]);
    this.renderGettingStarted();
  }

  afterRender() {
    this.every(CLOCK_EVERY_MS, () => {
      if (this.tokens) this.renderTokens();
      refreshRelativeTimes(this.container);
    });
  }

  unverifiedNotice(user) {
    return h(
      "div",
      { class: "alert alert-warning d-flex gap-3 align-items-start", role: "status", "data-notice": "unverified" },
      h("span", { class: "fs-4 lh-1" }, icon("envelope-exclamation")),
      h(
        "div",
        {},
        h("p", { class: "fw-semibold mb-1" }, "Verify your email address"),
        h("p", { class: "mb-0" }, `We mailed a link to ${user.email}. Until you open it you can register agents, but not generate bootstrap tokens for agents to register themselves.`),
      ),
    );
  }

  /** Shown while the account has no agent yet: the first steps, in order, ticked when done. */
  renderGettingStarted() {
    if (this.agentTotal !== 0) {
      replaceChildren(this.gettingStarted);
      return;
    }
    const user = this.session.user;
    const step = (done, title, text, action) =>
      h(
        "li",
        { class: "list-group-item d-flex flex-wrap flex-sm-nowrap gap-2 gap-sm-3 align-items-start", dataset: { step: done ? "done" : "todo" } },
        h("span", { class: done ? "text-success fs-5 lh-1" : "text-body-secondary fs-5 lh-1" }, icon(done ? "check-circle-fill" : "circle"), h("span", { class: "visually-hidden" }, done ? "Done:" : "To do:")),
        h("div", { class: "flex-grow-1 step-text" }, h("div", { class: "fw-semibold" }, title), h("div", { class: "small text-body-secondary" }, text)),
        done || !action ? null : h("div", { class: "step-action" }, action),
      );
    replaceChildren(
      this.gettingStarted,
      h(
        "section",
        { class: "card mb-4", "aria-labelledby": "getting-started-heading" },
        h(
          "div",
          { class: "card-body" },
          h("h2", { class: "h5", id: "getting-started-heading" }, "Get started"),
          h("p", { class: "text-body-secondary" }, "Three steps put your first agent in the registry, where clients can discover it."),
          h(
            "ol",
            { class: "list-group mb-0" },
            step(user.is_verified, "Verify your email address", "Open the link we mailed you when you signed up."),
            step(false, "Register your first agent", "Start from a template, paste an A2A Agent Card, or give the URL of one.", h("a", { class: "btn btn-sm btn-primary text-nowrap", href: "/ui/developer/agents/new" }, "Register an agent")),
            step(
              (this.tokens || []).length > 0,
              "Or let an agent register itself",
              "Generate a single-use bootstrap token and hand it to your agent; it calls POST /api/v1/onboard/register.",
              h("a", { class: "btn btn-sm btn-outline-primary text-nowrap", href: "/ui/developer/tokens" }, "Generate a token"),
            ),
          ),
        ),
      ),
    );
  }

  // ------------------------------------------------------------------- my agents

  async loadAgents() {
    replaceChildren(this.agentsBody, loadingState("Loading your agents…"));
    const mine = (query) => this.api.get("/api/v1/agents", { query: { owner: "me", ...query }, signal: this.signal });
    try {
      const [latest, ...byStatus] = await Promise.all([mine({ per_page: LATEST_AGENTS }), ...STATUSES.map((status) => mine({ status, per_page: 1 }))]);
      this.agentTotal = latest.pagination.total;
      const counts = Object.fromEntries(STATUSES.map((status, index) => [status, byStatus[index].pagination.total]));
      this.renderAgents(latest.agents, counts);
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(this.agentsBody, errorState(error, () => this.loadAgents()));
    }
  }

  renderAgents(agents, counts) {
    if (!agents.length) {
      replaceChildren(
        this.agentsBody,
        emptyState({
          iconName: "robot",
          title: "You have no agents yet",
          text: "Register one to make it discoverable, here and across federated registries.",
          action: h("a", { class: "btn btn-primary btn-sm", href: "/ui/developer/agents/new" }, icon("plus-lg"), " Register an agent"),
        }),
      );
      return;
    }
    replaceChildren(
      this.agentsBody,
      h(
        "ul",
        { class: "list-unstyled row row-cols-2 row-cols-sm-4 g-2 mb-3 text-center", "aria-label": "My agents by status", "data-agent-counts": "" },
        [["total", this.agentTotal], ...STATUSES.map((status) => [status, counts[status]])].map(([label, count]) =>
          h(
            "li",
            { class: "col" },
            h("div", { class: "border rounded py-2", dataset: { count: label } }, h("div", { class: "fs-4 fw-semibold", "data-value": "" }, formatCount(count)), h("div", { class: "small text-body-secondary text-capitalize" }, label)),
          ),
        ),
      ),
      h("h3", { class: "h6 text-body-secondary" }, "Latest"),
      h(
        "ul",
        { class: "list-group list-group-flush" },
        agents.map((agent) =>
          h(
            "li",
            { class: "list-group-item px-0 d-flex justify-content-between align-items-center gap-2", dataset: { agentId: agent.id } },
            h(
              "div",
              { class: "min-w-0" },
              h("a", { href: `/ui/developer?agent=${encodeURIComponent(agent.id)}`, class: "fw-semibold text-break" }, agent.name),
              h("div", { class: "small text-body-secondary text-truncate" }, agent.humanReadableId, " · registered ", timeAgo(agent.createdAt)),
            ),
            statusBadge(agent.status),
          ),
        ),
      ),
    );
  }

  // ------------------------------------------------------------ bootstrap tokens

  async loadTokens() {
    replaceChildren(this.tokensBody, loadingState("Loading your bootstrap tokens…"));
    try {
      const page = await this.api.get("/api/v1/onboard/bootstrap/tokens", { query: { per_page: 20 }, signal: this.signal });
      this.tokens = page.tokens;
      this.tokenTotal = page.pagination.total;
      this.renderTokens();
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(this.tokensBody, errorState(error, () => this.loadTokens()));
    }
  }

  renderTokens() {
    const now = Date.now();
    const active = this.tokens.filter((token) => isActiveToken(token, now));
    const used = this.tokens.filter((token) => token.status === "consumed").length;
    const verified = this.session.user.is_verified;
    const generate = h("a", { class: "btn btn-primary btn-sm", href: "/ui/developer/tokens" }, icon("ticket-perforated"), " Generate a bootstrap token");
    if (!this.tokens.length) {
      replaceChildren(
        this.tokensBody,
        emptyState({
          iconName: "ticket-perforated",
          title: "No bootstrap tokens yet",
          text: verified
            ? "A bootstrap token lets an agent register itself, once, within minutes. Generate one and hand it to your agent."
            : "Verify your email address first; then generate a token and hand it to your agent so it can register itself.",
          action: verified ? generate : null,
        }),
      );
      return;
    }
    const summary = h(
      "p",
      { class: "mb-3", "data-token-summary": "" },
      h("span", { class: "fs-4 fw-semibold" }, formatCount(active.length)),
      " ",
      active.length === 1 ? "active token" : "active tokens",
      h("span", { class: "text-body-secondary" }, ` · ${formatCount(used)} used · ${formatCount(this.tokenTotal)} issued in all`),
    );
    const rows = active.length
      ? h(
          "ul",
          { class: "list-group list-group-flush" },
          active.map((token) =>
            h(
              "li",
              { class: "list-group-item px-0 d-flex justify-content-between align-items-center gap-2", dataset: { tokenId: token.id } },
              h(
                "div",
                { class: "min-w-0" },
                h("div", { class: "font-monospace small text-truncate" }, token.id),
                h("div", { class: "small text-body-secondary" }, token.agent_type_hint ? `for a ${token.agent_type_hint} agent · ` : "", "expires ", timeAgo(token.expires_at)),
              ),
              statusBadge("active", TOKEN_BADGES),
            ),
          ),
        )
      : h("p", { class: "text-body-secondary mb-0" }, "None is active right now: every token is used or has expired. ", h("a", { href: "/ui/developer/tokens" }, "Generate a new one"), ".");
    replaceChildren(this.tokensBody, summary, rows);
  }

  // -------------------------------------------------------------------- API keys

  async loadKeys() {
    replaceChildren(this.keysBody, loadingState("Loading your API keys…"));
    try {
      const answer = await this.api.get("/api/v1/auth/api-keys", { signal: this.signal });
      this.renderKeys(answer.api_keys);
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(this.keysBody, errorState(error, () => this.loadKeys()));
    }
  }

  renderKeys(keys) {
    if (!keys.length) {
      replaceChildren(
        this.keysBody,
        emptyState({
          iconName: "key",
          title: "No API keys yet",
          text: "An API key lets scripts and CI call the registry as you, limited to the scopes you choose.",
          action: h("a", { class: "btn btn-outline-primary btn-sm", href: "/ui/developer/keys" }, icon("plus-lg"), " Create an API key"),
        }),
      );
      return;
    }
    replaceChildren(
      this.keysBody,
      h(
        "ul",
        { class: "list-group list-group-flush" },
        keys.map((key) =>
          h(
            "li",
            { class: "list-group-item px-0", dataset: { keyId: key.id } },
            h(
              "div",
              { class: "d-flex justify-content-between align-items-center gap-2" },
              h("span", { class: "fw-semibold text-break" }, key.name),
              h("code", { class: "small" }, `${key.prefix}…`),
            ),
            h(
              "div",
              { class: "small text-body-secondary" },
              key.agent_id ? "an agent's own key · " : "",
              key.last_used_at ? ["last used ", timeAgo(key.last_used_at)] : "never used",
              " · ",
              key.expires_at ? ["expires ", timeAgo(key.expires_at)] : "does not expire",
            ),
            h("div", { class: "d-flex flex-wrap gap-1 mt-1" }, key.scopes.map((scope) => h("span", { class: "badge rounded-pill border text-body-secondary fw-normal" }, scope))),
          ),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- my activity

  async loadActivity() {
    replaceChildren(this.activityBody, loadingState("Loading your activity…"));
    try {
      const page = await this.api.get("/api/v1/me/activity", { query: { limit: ACTIVITY_PAGE }, signal: this.signal });
      this.activityEntries = page.activity;
      this.activityCursor = page.pagination.next_cursor;
      this.renderActivity();
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(this.activityBody, errorState(error, () => this.loadActivity()));
    }
  }

  async loadOlderActivity(button) {
    try {
      const page = await busy(button, () => this.api.get("/api/v1/me/activity", { query: { limit: ACTIVITY_PAGE, cursor: this.activityCursor }, signal: this.signal }), "Loading…");
      this.activityEntries = this.activityEntries.concat(page.activity);
      this.activityCursor = page.pagination.next_cursor;
      this.renderActivity();
    } catch (error) {
      if (error.name === "AbortError") return;
      this.activityBody.append(errorState(error));
    }
  }

  renderActivity() {
    if (!this.activityEntries.length) {
      replaceChildren(this.activityBody, emptyState({ iconName: "clock-history", title: "Nothing here yet", text: "What you do in the registry (agents registered, tokens generated, keys created) appears here." }));
      return;
    }
    const viewerId = this.session.user.id;
    const older = this.activityCursor ? h("button", { type: "button", class: "btn btn-link btn-sm px-0 mt-2" }, "Show older activity") : null;
    if (older) older.addEventListener("click", () => this.loadOlderActivity(older));
    replaceChildren(this.activityBody, h("ol", { class: "list-unstyled activity-list mb-0" }, this.activityEntries.map((entry) => activityItem(entry, viewerId))), older);
  }
}

// The registry's activity log (GET /api/v1/admin/activity) for admins: newest first, older
// pages on demand through the API's cursor, filtered by action prefix, actor and time.

import { emptyState, errorState, formatDate, h, icon, loadingState, relativeTime, replaceChildren } from "../core/dom.js";
import { busy, clearErrors, errorSummary, field, showErrors } from "../core/forms.js";
import { shortId } from "./admin_ui.js";

const PAGE_SIZE = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTION_STYLES = [
  [/failed|denied|revoked|removed|deleted/, "text-bg-danger"],
  [/created|added|registered|login$/, "text-bg-success"],
  [/updated|rotated|changed/, "text-bg-info"],
];

function actionBadge(action) {
  const style = (ACTION_STYLES.find(([pattern]) => pattern.test(action)) || [null, "text-bg-secondary"])[1];
  return h("span", { class: `badge ${style} font-monospace fw-normal` }, action);
}

/** The subject in words: its name when the entry recorded one, else its kind and id. */
function subjectOf(entry, usernames) {
  const name = (entry.details && (entry.details.name || entry.details.username)) || (entry.subject_type === "user" && usernames.get(entry.subject_id));
  if (name) return [entry.subject_type, " ", h("strong", {}, String(name))];
  return [entry.subject_type, " ", entry.subject_id ? shortId(entry.subject_id) : null];
}

/** The ISO instant a datetime-local value names in this browser's zone. */
function isoFromLocal(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

export class ActivityFeed {
  /**
   * host: the view (api, signal). fixed: query parameters every request carries (a peer's
   * page shows only entries about it). withFilters: show the filter form.
   */
  constructor(host, { fixed = {}, withFilters = true, title = "Recent activity" } = {}) {
    this.host = host;
    this.fixed = fixed;
    this.withFilters = withFilters;
    this.title = title;
    this.filters = {};
    this.usernames = new Map();
  }

  element() {
    this.list = h("div", { class: "list-group list-group-flush", dataset: { activityList: "" } });
    this.status = h("div", { class: "admin-activity-status" });
    this.more = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm", onclick: () => this.loadOlder() }, "Load older entries");
    this.moreBar = h("div", { class: "card-body text-center py-2 d-none" }, this.more);
    return h(
      "div",
      { class: "card", dataset: { activityFeed: "" } },
      h(
        "div",
        { class: "card-header bg-transparent d-flex align-items-center justify-content-between gap-2" },
        h("h2", { class: "h6 mb-0" }, icon("clock-history"), " ", this.title),
        h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onclick: () => this.reload() }, icon("arrow-clockwise"), " Refresh"),
      ),
      this.withFilters ? h("div", { class: "card-body border-bottom" }, this.filterForm()) : null,
      this.list,
      this.status,
      this.moreBar,
    );
  }

  filterForm() {
    const form = h(
      "form",
      { class: "row g-2", "aria-label": "Filter activity" },
      errorSummary(),
      h("div", { class: "col-sm-4" }, field({ name: "action", label: "Action or prefix", placeholder: "peer. or auth.login", autocomplete: "off", help: "End with a dot for every action under it." })),
      h("div", { class: "col-sm-4" }, field({ name: "actor", label: "Actor", placeholder: "username or id", autocomplete: "off" })),
      h("div", { class: "col-sm-4" }, field({ name: "since", label: "Since", type: "datetime-local" })),
      h(
        "div",
        { class: "col-12 d-flex gap-2" },
        h("button", { type: "submit", class: "btn btn-primary btn-sm" }, icon("funnel"), " Apply filters"),
        h("button", { type: "reset", class: "btn btn-outline-secondary btn-sm" }, "Clear"),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const button = form.querySelector("[type=submit]");
      try {
        await busy(button, async () => {
          this.filters = await this.filtersFrom(form);
          await this.reload();
        });
      } catch (error) {
        if (error.name !== "AbortError") showErrors(form, error);
      }
    });
    form.addEventListener("reset", () => {
      clearErrors(form);
      this.filters = {};
      this.reload();
    });
    this.form = form;
    return form;
  }

  /** The API's query from the form; an actor given by username is looked up first. */
  async filtersFrom(form) {
    const values = Object.fromEntries(["action", "actor", "since"].map((name) => [name, form.elements.namedItem(name).value.trim()]));
    const filters = {};
    if (values.action) filters.action = values.action;
    if (values.since) filters.since = isoFromLocal(values.since);
    if (values.actor) filters.actor_id = UUID.test(values.actor) ? values.actor.toLowerCase() : await this.userIdOf(values.actor);
    return filters;
  }

  async userIdOf(username) {
    const found = await this.host.api.get("/api/v1/admin/users", { query: { q: username, per_page: 100 }, signal: this.host.signal });
    const wanted = username.toLowerCase();
    const user = found.users.find((candidate) => candidate.username.toLowerCase() === wanted || candidate.email.toLowerCase() === wanted);
    if (!user) {
      const error = new Error(`No account is called ${username}.`);
      error.details = { actor: [`No account is called ${username}.`] };
      throw error;
    }
    return user.id;
  }

  /** Names for the actors of the newest accounts, so most entries read as usernames. */
  async loadUsernames() {
    try {
      const page = await this.host.api.get("/api/v1/admin/users", { query: { per_page: 100 }, signal: this.host.signal });
      for (const user of page.users) this.usernames.set(user.id, user.username);
    } catch (error) {
      if (error.name === "AbortError") throw error;
      // Without names the entries show ids: still a usable log.
    }
  }

  async reload() {
    this.cursor = null;
    replaceChildren(this.list);
    replaceChildren(this.status, loadingState("Loading activity…"));
    this.moreBar.classList.add("d-none");
    if (!this.usernames.size) await this.loadUsernames();
    try {
      await this.loadPage();
    } catch (error) {
      if (error.name === "AbortError") return;
      if (this.form && error.status === 422) {
        replaceChildren(this.status);
        showErrors(this.form, error);
        return;
      }
      replaceChildren(this.status, h("div", { class: "card-body" }, errorState(error, () => this.reload())));
    }
  }

  async loadOlder() {
    try {
      await busy(this.more, () => this.loadPage());
    } catch (error) {
      if (error.name !== "AbortError") replaceChildren(this.status, h("div", { class: "card-body" }, errorState(error, () => this.loadOlder())));
    }
  }

  async loadPage() {
    const query = { limit: PAGE_SIZE, ...this.fixed, ...this.filters, cursor: this.cursor || undefined };
    const page = await this.host.api.get("/api/v1/admin/activity", { query, signal: this.host.signal });
    replaceChildren(this.status);
    this.list.append(...page.activity.map((entry) => this.entryRow(entry)));
    this.cursor = page.pagination.next_cursor;
    this.moreBar.classList.toggle("d-none", !this.cursor);
    if (!this.list.children.length) {
      const filtered = Object.keys(this.filters).length > 0;
      replaceChildren(
        this.status,
        emptyState({
          iconName: "clock-history",
          title: filtered ? "No entries match these filters" : "Nothing has happened yet",
          text: filtered ? "Widen the filters or clear them." : "Sign-ins, agent changes and admin actions appear here.",
        }),
      );
    }
  }

  entryRow(entry) {
    const actor = entry.actor_id
      ? [entry.actor_kind, " ", this.usernames.has(entry.actor_id) ? h("strong", {}, this.usernames.get(entry.actor_id)) : shortId(entry.actor_id)]
      : entry.actor_kind;
    return h(
      "div",
      { class: "list-group-item d-flex flex-wrap gap-2 align-items-baseline", dataset: { activitySeq: String(entry.seq), action: entry.action } },
      h("time", { class: "text-body-secondary small admin-activity-time", datetime: entry.occurred_at, title: formatDate(entry.occurred_at) }, relativeTime(entry.occurred_at)),
      actionBadge(entry.action),
      h("span", { class: "small" }, subjectOf(entry, this.usernames)),
      h("span", { class: "small text-body-secondary ms-auto" }, "by ", actor),
    );
  }
}

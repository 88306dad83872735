// Users, the admin portal's third tab: find accounts, change a role, deactivate or reactivate.
// The registry refuses (409) to lose its last active admin and an admin's own deactivation;
// those refusals are shown as the registry words them.

import { emptyState, errorState, formatCount, formatDate, h, icon, loadingState, relativeTime, replaceChildren } from "../core/dom.js";
import { busy } from "../core/forms.js";
import { actionButton, flagBadge } from "./admin_ui.js";
import { confirmAction } from "./modal.js";

const USERS = "/api/v1/admin/users";
const PAGE_SIZE = 25;
const STATES = { active: "true", deactivated: "false" };

export class UsersSection {
  constructor(view) {
    this.view = view;
    this.api = view.api;
    this.cursor = null;
  }

  async render(container) {
    this.notice = h("div", { "aria-live": "assertive", dataset: { usersNotice: "" } });
    this.count = h("p", { class: "text-body-secondary small mb-2", "aria-live": "polite" });
    this.body = h("tbody");
    this.table = h(
      "div",
      { class: "table-responsive" },
      h(
        "table",
        { class: "table align-middle admin-stack-table" },
        h("caption", { class: "visually-hidden" }, "Accounts"),
        h("thead", {}, h("tr", {}, ["Account", "Role", "State"].map((label) => h("th", { scope: "col" }, label)), h("th", { scope: "col", class: "d-none d-md-table-cell" }, "Joined"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
        this.body,
      ),
    );
    this.state = h("div", { dataset: { usersState: "" } });
    this.more = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm d-none" }, "Load more");
    this.more.addEventListener("click", () => busy(this.more, () => this.loadPage()).catch((error) => this.showFailure(error)));
    container.append(
      h("h2", { class: "h4 mb-3" }, "Users"),
      this.searchForm(),
      this.notice,
      this.count,
      this.table,
      this.state,
      h("div", { class: "text-center" }, this.more),
    );
    await this.reload();
  }

  searchForm() {
    const query = this.view.query;
    const q = h("input", { class: "form-control", type: "search", name: "q", id: "admin-users-q", value: query.get("q") || "", placeholder: "Username or email", autocomplete: "off" });
    const role = h(
      "select",
      { class: "form-select", name: "role", id: "admin-users-role" },
      [["", "Any role"], ["developer", "Developers"], ["admin", "Admins"]].map(([value, label]) => h("option", { value, selected: query.get("role") === value }, label)),
    );
    const state = h(
      "select",
      { class: "form-select", name: "state", id: "admin-users-state" },
      [["", "Active and deactivated"], ["active", "Active"], ["deactivated", "Deactivated"]].map(([value, label]) => h("option", { value, selected: query.get("state") === value }, label)),
    );
    const form = h(
      "form",
      { class: "row g-2 align-items-end mb-3", role: "search", "aria-label": "Search users" },
      h("div", { class: "col-md-5" }, h("label", { class: "form-label", for: q.id }, "Search"), q),
      h("div", { class: "col-6 col-md-3" }, h("label", { class: "form-label", for: role.id }, "Role"), role),
      h("div", { class: "col-6 col-md-2" }, h("label", { class: "form-label", for: state.id }, "State"), state),
      h("div", { class: "col-md-2" }, h("button", { type: "submit", class: "btn btn-primary w-100" }, icon("search"), " Search")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.filters = { q: q.value.trim(), role: role.value, state: state.value };
      // The filters are part of the address, so a search can be reloaded or shared.
      const params = new URLSearchParams(Object.entries(this.filters).filter(([, value]) => value));
      window.history.replaceState({}, "", `${window.location.pathname}${params.size ? `?${params}` : ""}`);
      this.reload();
    });
    for (const select of [role, state]) select.addEventListener("change", () => form.requestSubmit());
    this.filters = { q: q.value, role: role.value, state: state.value };
    return form;
  }

  async reload() {
    this.cursor = null;
    replaceChildren(this.body);
    replaceChildren(this.count);
    this.more.classList.add("d-none");
    this.table.classList.add("d-none");
    replaceChildren(this.state, loadingState("Loading accounts…"));
    try {
      await this.loadPage();
    } catch (error) {
      this.showFailure(error);
    }
  }

  showFailure(error) {
    if (error.name === "AbortError") return;
    replaceChildren(this.state, errorState(error, () => this.reload()));
  }

  async loadPage() {
    const { q, role, state } = this.filters;
    const page = await this.api.get(USERS, {
      query: { per_page: PAGE_SIZE, q: q || undefined, role: role || undefined, is_active: STATES[state], cursor: this.cursor || undefined },
      signal: this.view.signal,
    });
    replaceChildren(this.state);
    this.body.append(...page.users.map((user) => this.row(user)));
    this.cursor = page.pagination.next_cursor;
    this.more.classList.toggle("d-none", !this.cursor);
    const shown = this.body.children.length;
    this.table.classList.toggle("d-none", shown === 0);
    this.count.textContent = shown ? `Showing ${formatCount(shown)} of ${formatCount(page.pagination.total)} accounts` : "";
    if (!shown) {
      const filtered = Boolean(q || role || state);
      replaceChildren(this.state, emptyState({ iconName: "people", title: filtered ? "No account matches" : "No accounts yet", text: filtered ? "Try another search or widen the filters." : null }));
    }
  }

  row(user) {
    const me = this.view.session.user?.id === user.id;
    const cells = () => {
      const isAdmin = user.role === "admin";
      const roleButton = actionButton(isAdmin ? "person-down" : "person-up", isAdmin ? "Make developer" : "Make admin", "btn-outline-primary");
      roleButton.addEventListener("click", () => this.change(user, roleButton, { role: isAdmin ? "developer" : "admin" }));
      const activeButton = user.is_active ? actionButton("person-slash", "Deactivate", "btn-outline-danger") : actionButton("person-check", "Reactivate", "btn-outline-success");
      activeButton.addEventListener("click", () => this.change(user, activeButton, { is_active: !user.is_active }));
      return [
        h(
          "td",
          {},
          h("div", { class: "fw-semibold" }, user.username, me ? h("span", { class: "badge text-bg-light border ms-2" }, "you") : null),
          h("div", { class: "small text-body-secondary text-break" }, user.email),
        ),
        h("td", {}, h("span", { class: `badge ${isAdmin ? "text-bg-warning" : "text-bg-light border"}`, dataset: { role: user.role } }, user.role)),
        h("td", {}, h("div", { class: "d-flex flex-wrap gap-1" }, flagBadge(user.is_active, "Active", "Deactivated"), user.is_verified ? null : h("span", { class: "badge text-bg-light border" }, "Unverified"))),
        h("td", { class: "small d-none d-md-table-cell" }, h("time", { datetime: user.created_at, title: formatDate(user.created_at) }, relativeTime(user.created_at))),
        h("td", { class: "text-end" }, h("div", { class: "d-flex flex-wrap justify-content-sm-end gap-1", role: "group", "aria-label": `Actions for ${user.username}` }, roleButton, activeButton)),
      ];
    };
    const row = h("tr", { dataset: { username: user.username } }, cells());
    row.redraw = (updated) => {
      Object.assign(user, updated);
      replaceChildren(row, cells());
    };
    return row;
  }

  async change(user, button, changes) {
    replaceChildren(this.notice);
    if (changes.is_active === false) {
      const confirmed = await confirmAction({
        title: `Deactivate ${user.username}?`,
        body: `Every session of ${user.username} ends now and their API keys stop working. Reactivating lets them sign in again.`,
        confirmLabel: "Deactivate",
      });
      if (!confirmed) return;
    }
    try {
      const updated = await busy(button, () => this.api.patch(`${USERS}/${encodeURIComponent(user.id)}`, changes));
      button.closest("tr").redraw(updated);
      replaceChildren(this.notice, this.outcome("success", `${updated.username} is now ${describe(updated, changes)}.`));
      // An admin who gave up their own role sees the portal close on them, as it should.
      if (this.view.session.user?.id === user.id) await this.view.session.loadUser();
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(this.notice, this.outcome("danger", `${user.username} was not changed: ${error.message}`, error.code));
    }
  }

  outcome(kind, text, code) {
    return h(
      "div",
      { class: `alert alert-${kind} alert-dismissible`, role: kind === "danger" ? "alert" : "status", dataset: { outcome: kind, code: code || "" } },
      icon(kind === "danger" ? "exclamation-triangle" : "check-circle"),
      " ",
      text,
      h("button", { type: "button", class: "btn-close", "aria-label": "Dismiss", onclick: () => replaceChildren(this.notice) }),
    );
  }
}

function describe(user, changes) {
  if ("role" in changes) return user.role === "admin" ? "an admin" : "a developer";
  return user.is_active ? "active again" : "deactivated; their sessions and API keys no longer work";
}

// The developer portal's agent table: my agents with their status, signature and health,
// edited in place. An edit starts from the agent as the registry holds it (its ETag) and is
// saved with If-Match, so a change someone made meanwhile is never overwritten: the 412 shows
// both versions and the user chooses.

import { emptyState, errorState, formatDate, h, icon, loadingState, relativeTime, replaceChildren, toast } from "../core/dom.js";
import { busy, clearErrors, errorSummary, showErrors } from "../core/forms.js";
import { confirmAction } from "./modal.js";

const AGENTS = "/api/v1/agents";
const PAGE_SIZE = 50;
const COLUMNS = ["Agent", "Type", "Status", "Signature", "Health", "Updated", "Actions"];
const STATUSES = [
  { value: "active", label: "Active", badge: "text-bg-success" },
  { value: "inactive", label: "Inactive", badge: "text-bg-secondary" },
  { value: "deprecated", label: "Deprecated", badge: "text-bg-warning" },
];
const SIGNATURES = {
  valid: { label: "Signed", badge: "text-bg-success", iconName: "patch-check" },
  invalid: { label: "Bad signature", badge: "text-bg-danger", iconName: "patch-exclamation" },
  unverifiable: { label: "Unverifiable", badge: "text-bg-warning", iconName: "patch-question" },
  none: { label: "Unsigned", badge: "badge-neutral", iconName: "dash-circle" },
};
const HEALTH = {
  healthy: { label: "Healthy", badge: "text-bg-success", iconName: "heart-pulse" },
  degraded: { label: "Degraded", badge: "text-bg-warning", iconName: "exclamation-triangle" },
  unreachable: { label: "Unreachable", badge: "text-bg-danger", iconName: "wifi-off" },
  unknown: { label: "Not probed yet", badge: "badge-neutral", iconName: "question-circle" },
};
/** What the table edits, as the API names it, and how a person reads it. */
const FIELDS = [
  { name: "name", label: "Name" },
  { name: "description", label: "Description" },
  { name: "agentType", label: "Type" },
  { name: "status", label: "Status" },
  { name: "tags", label: "Tags" },
];

let editCounter = 0;

function badge(known, title) {
  return h("span", { class: `badge ${known.badge}`, title }, icon(known.iconName), " ", known.label);
}

function statusBadge(status) {
  const known = STATUSES.find((item) => item.value === status);
  return h("span", { class: `badge ${known ? known.badge : "badge-neutral"}`, dataset: { agentStatus: status } }, known ? known.label : status);
}

function signatureBadge(signature = { status: "none" }) {
  const known = SIGNATURES[signature.status] || SIGNATURES.none;
  const title = [signature.kid && `key ${signature.kid}`, signature.domain, signature.reason].filter(Boolean).join(" · ") || undefined;
  return h("span", { dataset: { signature: signature.status } }, badge(known, title));
}

function healthBadge(health = { status: "unknown" }) {
  const known = HEALTH[health.status] || HEALTH.unknown;
  const facts = [
    typeof health.latency_ms === "number" && `${Math.round(health.latency_ms)} ms`,
    typeof health.uptime_7d === "number" && `${(health.uptime_7d * 100).toFixed(1)}% up over 7 days`,
    health.last_checked_at && `checked ${relativeTime(health.last_checked_at)}`,
  ].filter(Boolean);
  return h("span", { dataset: { health: health.status } }, badge(known, facts.join(" · ") || undefined), facts.length ? h("div", { class: "small text-body-secondary mt-1" }, facts[0]) : null);
}

function sameValue(a, b) {
  return Array.isArray(a) || Array.isArray(b) ? (a || []).join("\n") === (b || []).join("\n") : (a ?? "") === (b ?? "");
}

function shown(name, value) {
  if (name === "tags") return value && value.length ? value.join(", ") : "—";
  if (name === "status") return (STATUSES.find((item) => item.value === value) || { label: value }).label;
  return value === undefined || value === null || value === "" ? "—" : String(value);
}

/** The fields of ``values`` that differ from ``base``. */
function changesOf(base, values) {
  return Object.fromEntries(FIELDS.filter(({ name }) => !sameValue(base[name], values[name])).map(({ name }) => [name, values[name]]));
}

async function readWithTag(view, id) {
  const { data, headers } = await view.api.send("GET", `${AGENTS}/${encodeURIComponent(id)}`, { signal: view.signal });
  return { agent: data, etag: headers.get("ETag") };
}

/** The Agents tab. view: the scope of the section (api, signal, every, onDestroy). */
export function agentsSection(view) {
  const highlight = view.query.get("highlight");
  const body = h("div", {}, loadingState("Loading your agents…"));
  const more = h("div", { class: "text-center mt-2" });
  const heading = h("h2", { class: "h4 mb-0", id: "agents-heading" }, "Your agents");
  const count = h("span", { class: "text-body-secondary" });
  let agents = [];
  let nextCursor = null;
  let tbody = null;

  async function load(cursor = null) {
    try {
      const page = await view.api.get(AGENTS, { query: { owner: "me", per_page: PAGE_SIZE, cursor }, signal: view.signal });
      agents = cursor ? agents.concat(page.agents) : page.agents;
      nextCursor = page.pagination.next_cursor;
      count.textContent = page.pagination.total_exact === false ? `${page.pagination.total}+` : String(page.pagination.total);
      draw();
    } catch (error) {
      if (error.name !== "AbortError")
        replaceChildren(
          body,
          errorState(error, () => load(cursor)),
        );
    }
  }

  function draw() {
    replaceChildren(more);
    if (!agents.length) {
      replaceChildren(
        body,
        emptyState({
          iconName: "robot",
          title: "You have no agents yet",
          text: "Register one from a template, an A2A Agent Card or the URL where your agent publishes its card, or let the agent register itself with a bootstrap token.",
          action: h(
            "div",
            { class: "d-flex flex-wrap justify-content-center gap-2" },
            h("a", { class: "btn btn-primary", href: "/ui/developer/agents/new" }, icon("magic"), " Open the registration wizard"),
            h("a", { class: "btn btn-outline-secondary", href: "/ui/developer/tokens" }, icon("ticket-perforated"), " Generate a bootstrap token"),
          ),
        }),
      );
      return;
    }
    tbody = h(
      "tbody",
      {},
      agents.map((agent) => displayRow(agent)),
    );
    replaceChildren(
      body,
      h(
        "div",
        { class: "table-responsive" },
        h(
          "table",
          { class: "table align-middle agents-table", "aria-labelledby": "agents-heading" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              COLUMNS.map((label) => h("th", { scope: "col", class: label === "Actions" ? "text-end" : null }, label === "Actions" ? h("span", { class: "visually-hidden" }, label) : label)),
            ),
          ),
          tbody,
        ),
      ),
    );
    if (nextCursor) {
      const button = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm" }, "Show more agents");
      button.addEventListener("click", () => busy(button, () => load(nextCursor), "Loading…"));
      more.append(button);
    }
    const fresh = highlight && tbody.querySelector(`tr[data-agent-id="${CSS.escape(highlight)}"]`);
    if (fresh) view.later(0, () => fresh.scrollIntoView({ block: "center" }));
  }

  function replaceAgent(agent) {
    agents = agents.map((item) => (item.id === agent.id ? agent : item));
  }

  function agentCell(agent) {
    return h(
      "td",
      { class: "agent-cell" },
      h(
        "div",
        { class: "d-flex flex-wrap align-items-center gap-2" },
        h("a", { class: "fw-semibold", href: `/ui/discovery/agents/${encodeURIComponent(agent.id)}` }, agent.name),
        agent.verified ? h("span", { class: "badge text-bg-info", title: "Endpoint ownership proven" }, icon("shield-check"), " Verified") : null,
        agent.id === highlight ? h("span", { class: "badge text-bg-success" }, "New") : null,
      ),
      h("code", { class: "small" }, agent.humanReadableId),
      h("div", { class: "small text-body-secondary agent-description" }, agent.description),
      agent.tags.length
        ? h(
            "div",
            { class: "d-flex flex-wrap gap-1 mt-1" },
            agent.tags.map((tag) => h("span", { class: "badge badge-neutral fw-normal" }, tag)),
          )
        : null,
    );
  }

  function displayRow(agent) {
    const edit = h("button", { type: "button", class: "btn btn-sm btn-outline-primary", "aria-label": `Edit ${agent.name}` }, icon("pencil"), h("span", { class: "d-md-none d-xl-inline" }, " Edit"));
    const remove = h(
      "button",
      { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": `Delete ${agent.name}` },
      icon("trash"),
      h("span", { class: "d-md-none d-xl-inline" }, " Delete"),
    );
    const row = h(
      "tr",
      { class: agent.id === highlight ? "row-highlight" : null, dataset: { agentId: agent.id } },
      agentCell(agent),
      h("td", { dataset: { label: "Type" } }, h("code", { class: "small" }, agent.agentType)),
      h("td", { dataset: { label: "Status" } }, statusBadge(agent.status)),
      h("td", { dataset: { label: "Signature" } }, signatureBadge(agent.signature)),
      h("td", { dataset: { label: "Health" } }, healthBadge(agent.health)),
      h("td", { class: "text-nowrap", dataset: { label: "Updated" } }, h("time", { datetime: agent.updatedAt, title: formatDate(agent.updatedAt) }, relativeTime(agent.updatedAt))),
      h("td", { class: "text-end text-nowrap agent-actions" }, h("div", { class: "btn-group" }, edit, remove)),
    );
    edit.addEventListener("click", () => startEdit(agent, row, edit));
    remove.addEventListener("click", () => deleteAgent(agent, row, remove));
    return row;
  }

  async function startEdit(listed, row, button) {
    let read;
    try {
      read = await busy(button, () => readWithTag(view, listed.id), "");
    } catch (error) {
      if (error.name === "AbortError") return;
      toast(`${listed.name} could not be opened for editing: ${error.message}`, "danger");
      if (error.status === 404) await load();
      return;
    }
    replaceAgent(read.agent);
    const changedMeanwhile = read.agent.updatedAt !== listed.updatedAt;
    const editor = editRow(read.agent, read.etag, changedMeanwhile);
    row.replaceWith(editor.row);
    editor.focus();
  }

  /** The row as a form: name, description, tags, type and status become controls. */
  function editRow(base, etag, changedMeanwhile) {
    const formId = `agent-edit-${++editCounter}`;
    const state = { base, etag, conflictRow: null };
    const control = (name, label, element) => {
      element.id = `${formId}-${name}`;
      element.name = name;
      element.setAttribute("form", formId);
      element.setAttribute("aria-describedby", `${element.id}-feedback`);
      return h("div", { class: "mb-2" }, h("label", { class: "form-label small mb-1", for: element.id }, label), element, h("div", { id: `${element.id}-feedback`, class: "invalid-feedback" }));
    };
    const nameInput = h("input", { class: "form-control form-control-sm", value: base.name, required: true, maxlength: 200 });
    const descriptionInput = h("textarea", { class: "form-control form-control-sm", rows: 3, maxlength: 4000 }, base.description);
    const tagsInput = h("input", { class: "form-control form-control-sm", value: base.tags.join(", "), placeholder: "chat, search" });
    const typeInput = h("input", { class: "form-control form-control-sm", value: base.agentType, required: true, maxlength: 64 });
    const statusSelect = h(
      "select",
      { class: "form-select form-select-sm" },
      STATUSES.map((item) => h("option", { value: item.value, selected: item.value === base.status }, item.label)),
    );
    const save = h("button", { type: "submit", class: "btn btn-sm btn-primary" }, icon("check-lg"), " Save");
    save.setAttribute("form", formId);
    const cancel = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary" }, "Cancel");
    const form = h(
      "form",
      { id: formId, novalidate: true, "aria-label": `Edit ${base.name}` },
      errorSummary(),
      changedMeanwhile ? h("p", { class: "alert alert-info small py-2", role: "status" }, icon("info-circle"), " This agent changed since the list loaded: you are editing its current values.") : null,
      control("name", "Name", nameInput),
      control("description", "Description", descriptionInput),
      control("tags", "Tags (comma-separated)", tagsInput),
    );
    const row = h(
      "tr",
      { class: "agent-editing", dataset: { agentId: base.id, editing: "" } },
      h("td", { class: "agent-cell" }, form),
      h("td", {}, control("agentType", "Type", typeInput)),
      h("td", {}, control("status", "Status", statusSelect)),
      h("td", { dataset: { label: "Signature" } }, signatureBadge(base.signature)),
      h("td", { dataset: { label: "Health" } }, healthBadge(base.health)),
      h("td", { class: "text-nowrap", dataset: { label: "Updated" } }, relativeTime(base.updatedAt)),
      h("td", { class: "text-end agent-actions" }, h("div", { class: "d-flex flex-column gap-2 align-items-end" }, save, cancel)),
    );
    const values = () => ({
      name: nameInput.value.trim(),
      description: descriptionInput.value.trim(),
      agentType: typeInput.value.trim(),
      status: statusSelect.value,
      tags: tagsInput.value
        .split(",")
        .map((tag) => tag.trim())
        .filter(Boolean),
    });
    const leave = (agent) => {
      if (state.conflictRow) state.conflictRow.remove();
      replaceAgent(agent);
      row.replaceWith(displayRow(agent));
      const again = tbody.querySelector(`tr[data-agent-id="${CSS.escape(agent.id)}"] button`);
      if (again) again.focus();
    };
    const write = async (changes, ifMatch) => {
      const { data, headers } = await view.api.send("PATCH", `${AGENTS}/${encodeURIComponent(base.id)}`, { body: changes, headers: { "If-Match": ifMatch }, signal: view.signal });
      return { agent: data, etag: headers.get("ETag") };
    };
    const submit = async (changes, ifMatch, button) => {
      clearErrors(form);
      try {
        const written = await busy(button, () => write(changes, ifMatch), "Saving…");
        toast(`Saved ${written.agent.name}.`);
        leave(written.agent);
      } catch (error) {
        if (error.name === "AbortError") return;
        if (error.status === 412) await showConflict(changes);
        else if (error.status === 404) {
          toast(`${base.name} no longer exists.`, "warning");
          if (state.conflictRow) state.conflictRow.remove();
          await load();
        } else showErrors(form, error);
      }
    };
    /** Someone saved first: their version beside this edit, and the user decides. */
    const showConflict = async (mine) => {
      let theirs;
      try {
        theirs = await readWithTag(view, base.id);
      } catch (error) {
        if (error.name !== "AbortError") showErrors(form, error);
        return;
      }
      const theirChanges = changesOf(state.base, theirs.agent);
      const names = FIELDS.filter(({ name }) => name in mine || name in theirChanges);
      const useTheirs = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary" }, icon("arrow-counterclockwise"), " Use theirs");
      const reapply = h("button", { type: "button", class: "btn btn-sm btn-warning" }, icon("layers"), " Re-apply mine on top");
      const headingId = `${formId}-conflict`;
      const panel = h(
        "tr",
        { class: "agent-conflict", dataset: { conflictFor: base.id } },
        h(
          "td",
          { colspan: String(COLUMNS.length) },
          h(
            "div",
            { class: "card card-body border-warning border-2", role: "alert", "aria-labelledby": headingId },
            h("h3", { class: "h6 text-warning-emphasis", id: headingId }, icon("exclamation-triangle"), " Someone changed this agent while you were editing it"),
            h("p", { class: "small mb-2" }, "Nothing was overwritten. Here is what the registry holds now beside your edit: choose which to keep."),
            h(
              "div",
              { class: "table-responsive" },
              h(
                "table",
                { class: "table table-sm mb-2 conflict-table" },
                h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Now on the registry"), h("th", { scope: "col" }, "Your edit"))),
                h(
                  "tbody",
                  {},
                  names.map(({ name, label }) =>
                    h(
                      "tr",
                      { dataset: { field: name } },
                      h(
                        "th",
                        { scope: "row" },
                        label,
                        name in mine && name in theirChanges && !sameValue(mine[name], theirs.agent[name]) ? h("span", { class: "badge text-bg-danger ms-2" }, "both changed") : null,
                      ),
                      h("td", { dataset: { theirs: "" } }, shown(name, theirs.agent[name])),
                      h("td", { dataset: { mine: "" } }, name in mine ? shown(name, mine[name]) : h("span", { class: "fst-italic" }, "unchanged")),
                    ),
                  ),
                ),
              ),
            ),
            h("div", { class: "d-flex flex-wrap gap-2" }, reapply, useTheirs),
          ),
        ),
      );
      if (state.conflictRow) state.conflictRow.remove();
      state.conflictRow = panel;
      row.after(panel);
      save.disabled = true;
      useTheirs.addEventListener("click", () => {
        toast("Kept the version on the registry; your edit is discarded.", "secondary");
        leave(theirs.agent);
      });
      reapply.addEventListener("click", async () => {
        // Only the fields this edit changed go on top of their version, under its ETag.
        state.base = theirs.agent;
        state.etag = theirs.etag;
        await submit(mine, theirs.etag, reapply);
      });
      reapply.focus();
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const current = values();
      const problems = {};
      if (!current.name) problems.name = ["A name is required."];
      if (!current.description) problems.description = ["A description is required."];
      if (!current.agentType) problems.agentType = ["A type is required."];
      if (Object.keys(problems).length) {
        showErrors(form, { message: "Check the highlighted fields.", details: problems });
        return;
      }
      const changes = changesOf(state.base, current);
      if (!Object.keys(changes).length) {
        leave(state.base);
        return;
      }
      await submit(changes, state.etag, save);
    });
    cancel.addEventListener("click", () => leave(state.base));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        leave(state.base);
      }
    });
    return { row, focus: () => nameInput.focus() };
  }

  async function deleteAgent(agent, row, button) {
    const confirmed = await confirmAction({
      title: `Delete ${agent.name}?`,
      body: [
        h("p", {}, "It disappears from discovery at once, here and on every registry that federates with this one, and its own API keys stop working."),
        h("p", { class: "mb-0" }, "This cannot be undone."),
      ],
      confirmLabel: "Delete agent",
    });
    if (!confirmed) return;
    try {
      await busy(button, () => view.api.delete(`${AGENTS}/${encodeURIComponent(agent.id)}`, { signal: view.signal }), "");
      toast(`Deleted ${agent.name}.`);
      agents = agents.filter((item) => item.id !== agent.id);
      count.textContent = String(Math.max(0, Number(count.textContent) - 1));
      if (agents.length) row.remove();
      else draw();
    } catch (error) {
      if (error.name !== "AbortError") toast(`${agent.name} was not deleted: ${error.message}`, "danger");
    }
  }

  load();
  return h("section", { "aria-labelledby": "agents-heading" }, h("div", { class: "d-flex align-items-baseline gap-2 mb-3" }, heading, count), body, more);
}

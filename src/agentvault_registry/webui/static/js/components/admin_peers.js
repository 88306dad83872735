// Federation peers, the admin portal's second tab: every peer with its health, the form that
// adds one (the registry's inbound token for it shown once), and the actions on each.

import { emptyState, errorState, formatDate, h, icon, loadingState, relativeTime, replaceChildren } from "../core/dom.js";
import { busy, clearErrors, errorSummary, formValues, showErrors } from "../core/forms.js";
import { checkPeers, createBody, deletePeer, loadPeers, PEERS_PATH, peerFields, rotateToken, setStatus } from "./admin_peer_actions.js";
import { actionButton, circuitText, peerContact, peerStatusBadge, showPeerToken } from "./admin_ui.js";

const REFRESH_EVERY_MS = 20_000;
// After a check the health bookkeeping lands a moment later; look this often, this many times.
const SETTLE_STEP_MS = 150;
const SETTLE_TRIES = 20;

function healthCell(peer) {
  return h(
    "td",
    { dataset: { peerHealth: "" } },
    h("div", { class: "small" }, peerContact(peer)),
    peer.circuit && peer.circuit !== "closed" ? h("div", { class: "small text-warning-emphasis" }, circuitText(peer.circuit)) : null,
    peer.last_error
      ? h("div", { class: "small text-danger-emphasis admin-peer-error" }, icon("exclamation-triangle"), " ", peer.last_error, peer.last_failure_at ? ` (${relativeTime(peer.last_failure_at)})` : "")
      : null,
  );
}

export class PeersSection {
  constructor(view) {
    this.view = view;
    this.api = view.api;
    this.peers = [];
  }

  async render(container) {
    this.table = h("div", { dataset: { peerList: "" } }, loadingState("Loading peers…"));
    this.notice = h("div", { "aria-live": "polite" });
    this.checkButton = h("button", { type: "button", class: "btn btn-sm btn-outline-primary", onclick: () => this.check() }, icon("broadcast"), " Check now");
    container.append(
      h(
        "div",
        { class: "row g-4" },
        h(
          "div",
          { class: "col-xl-8" },
          h(
            "div",
            { class: "d-flex flex-wrap align-items-center justify-content-between gap-2 mb-3" },
            h("h2", { class: "h4 mb-0" }, "Federation peers"),
            h("div", { class: "d-flex gap-2" }, this.checkButton, h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onclick: () => this.reload() }, icon("arrow-clockwise"), " Refresh")),
          ),
          h(
            "p",
            { class: "text-body-secondary" },
            "Peers answer each other's federated searches. Health is recorded whenever a federated search reaches a peer; “Check now” sends one.",
          ),
          this.notice,
          this.table,
        ),
        h("div", { class: "col-xl-4" }, this.addForm()),
      ),
    );
    await this.reload();
  }

  afterRender() {
    this.view.every(REFRESH_EVERY_MS, () => {
      if (!document.hidden) this.reload({ quiet: true });
    });
  }

  addForm() {
    const button = h("button", { type: "submit", class: "btn btn-primary w-100" }, icon("plus-lg"), " Add peer");
    const form = h("form", { "aria-labelledby": "admin-add-peer-heading", novalidate: true, dataset: { addPeerForm: "" } }, errorSummary(), peerFields(), button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      try {
        const issued = await busy(button, () => this.api.post(PEERS_PATH, createBody(formValues(form))), "Adding…");
        form.reset();
        await this.reload({ quiet: true });
        await showPeerToken({ peerName: issued.name, token: issued.inbound_token });
      } catch (error) {
        if (error.name !== "AbortError") showErrors(form, error);
      }
    });
    for (const control of form.elements) control.addEventListener("input", () => control.classList.remove("is-invalid"));
    return h(
      "div",
      { class: "card" },
      h(
        "div",
        { class: "card-body" },
        h("h2", { class: "h5", id: "admin-add-peer-heading" }, "Add a peer"),
        h("p", { class: "small text-body-secondary" }, "Ask the peer's administrator for the token their registry issued for this one. In return this registry issues a token for them, shown once."),
        form,
      ),
    );
  }

  async reload({ quiet = false } = {}) {
    if (!quiet) replaceChildren(this.table, loadingState("Loading peers…"));
    try {
      this.peers = await loadPeers(this.api, this.view.signal);
      this.drawTable();
    } catch (error) {
      if (error.name === "AbortError") return;
      replaceChildren(this.table, errorState(error, () => this.reload()));
    }
  }

  drawTable() {
    if (!this.peers.length) {
      replaceChildren(
        this.table,
        emptyState({ iconName: "diagram-3", title: "No federation peers yet", text: "Add a peer registry with the form; federated searches then reach its agents too." }),
      );
      return;
    }
    replaceChildren(
      this.table,
      h(
        "div",
        { class: "table-responsive" },
        h(
          "table",
          { class: "table align-middle admin-stack-table" },
          h("caption", { class: "visually-hidden" }, "Federation peers and their health"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Peer"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Health"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
          h("tbody", {}, this.peers.map((peer) => this.row(peer))),
        ),
      ),
    );
  }

  row(peer) {
    const disabled = peer.status === "disabled";
    const act = (button, work) => async () => {
      try {
        if (await busy(button, work)) await this.reload({ quiet: true });
      } catch (error) {
        if (error.name !== "AbortError") replaceChildren(this.notice, errorState(error));
      }
    };
    const toggle = disabled ? actionButton("play-circle", "Enable") : actionButton("pause-circle", "Disable");
    toggle.addEventListener("click", act(toggle, () => setStatus(this.api, peer, disabled ? "active" : "disabled")));
    const rotate = actionButton("key", "Rotate token");
    rotate.addEventListener("click", act(rotate, () => rotateToken(this.api, peer)));
    const remove = actionButton("trash", "Delete", "btn-outline-danger");
    remove.addEventListener("click", act(remove, () => deletePeer(this.api, peer)));
    return h(
      "tr",
      { dataset: { peerId: peer.id, peerName: peer.name } },
      h(
        "td",
        {},
        h("a", { class: "fw-semibold", href: `/ui/admin/peers/${peer.id}` }, peer.name),
        h("div", { class: "small text-body-secondary font-monospace-wrap" }, peer.registry_url),
        h("div", { class: "small text-body-secondary" }, "Added ", h("time", { datetime: peer.created_at, title: formatDate(peer.created_at) }, relativeTime(peer.created_at))),
      ),
      h("td", {}, peerStatusBadge(peer.status)),
      healthCell(peer),
      h("td", { class: "text-end" }, h("div", { class: "d-flex flex-wrap justify-content-sm-end gap-1", role: "group", "aria-label": `Actions for ${peer.name}` }, toggle, rotate, remove)),
    );
  }

  /** A federated search now, then the list once every asked peer's health is recorded. */
  async check() {
    try {
      const before = new Map(this.peers.map((peer) => [peer.id, `${peer.last_seen_at}|${peer.last_failure_at}`]));
      const answers = await busy(this.checkButton, () => checkPeers(this.api, this.view.signal), "Checking…");
      replaceChildren(this.notice, this.checkSummary(answers));
      const asked = new Set(answers.filter((answer) => answer.status !== "skipped").map((answer) => answer.name));
      for (let attempt = 0; attempt < SETTLE_TRIES; attempt += 1) {
        await this.reload({ quiet: true });
        const settled = this.peers.every((peer) => !asked.has(peer.name) || before.get(peer.id) !== `${peer.last_seen_at}|${peer.last_failure_at}`);
        if (settled) return;
        await new Promise((resolve) => this.view.later(SETTLE_STEP_MS, resolve));
      }
    } catch (error) {
      if (error.name !== "AbortError") replaceChildren(this.notice, errorState(error, () => this.check()));
    }
  }

  checkSummary(answers) {
    if (!answers.length) {
      return h("div", { class: "alert alert-secondary", role: "status" }, "No active peer to ask.");
    }
    const allOk = answers.every((answer) => answer.status === "ok");
    return h(
      "div",
      { class: `alert ${allOk ? "alert-success" : "alert-warning"} alert-dismissible`, role: "status", dataset: { checkResult: "" } },
      h("p", { class: "fw-semibold mb-1" }, allOk ? "Every active peer answered." : "Not every peer answered."),
      h(
        "ul",
        { class: "mb-0 small" },
        answers.map((answer) => h("li", {}, h("strong", {}, answer.name), `: ${answer.status}`, typeof answer.latency_ms === "number" ? ` in ${Math.round(answer.latency_ms)} ms` : "", answer.error ? ` (${answer.error})` : "")),
      ),
      h("button", { type: "button", class: "btn-close", "aria-label": "Dismiss", onclick: () => replaceChildren(this.notice) }),
    );
  }
}

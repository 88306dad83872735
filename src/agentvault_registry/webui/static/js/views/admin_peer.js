// One federation peer (/ui/admin/peers/:peer_id): its settings and the form that changes them,
// its health as the circuit breaker sees it, how far this registry mirrored its changes, its
// history in the activity log, and rotate / disable / delete.

import { emptyState, errorState, formatDate, h, icon, relativeTime, replaceChildren } from "../core/dom.js";
import { busy, clearErrors, errorSummary, formValues, showErrors } from "../core/forms.js";
import { View } from "../core/view.js";
import { ActivityFeed } from "../components/admin_activity.js";
import { checkPeers, deletePeer, peerFields, peerPath, rotateToken, setStatus, updateBody } from "../components/admin_peer_actions.js";
import { circuitText, peerContact, peerStatusBadge } from "../components/admin_ui.js";

const REFRESH_EVERY_MS = 20_000;

function facts(rows) {
  return h(
    "dl",
    { class: "row small mb-0 admin-facts" },
    rows.filter(Boolean).map(([term, value]) => [h("dt", { class: "col-sm-5 text-body-secondary fw-normal" }, term), h("dd", { class: "col-sm-7 text-break" }, value)]),
  );
}

function when(value) {
  return value ? h("time", { datetime: value, title: formatDate(value) }, relativeTime(value)) : "—";
}

export default class AdminPeerView extends View {
  async render(container) {
    await super.render(container);
    this.peerId = this.params.peer_id;
    let peer;
    try {
      peer = await this.load();
    } catch (error) {
      if (error.status !== 404) throw error;
      container.append(
        h("h1", {}, "Federation peer"),
        emptyState({
          iconName: "diagram-3",
          title: "No such peer",
          text: "It may have been deleted.",
          action: h("a", { class: "btn btn-primary", href: "/ui/admin/peers" }, "All peers"),
        }),
      );
      return;
    }
    this.heading = h("h1", { class: "h2 mb-0 text-break" });
    this.crumb = h("li", { class: "breadcrumb-item active text-break", "aria-current": "page" });
    this.statusBadge = h("span");
    this.actions = h("div", { class: "d-flex flex-wrap gap-2", role: "group", "aria-label": "Peer actions" });
    this.notice = h("div", { "aria-live": "polite" });
    this.health = h("div", { dataset: { peerHealthCard: "" } });
    this.sync = h("div", { dataset: { peerSync: "" } });
    this.config = h("div", { dataset: { peerConfig: "" } });
    this.formSlot = h("div");
    this.feed = new ActivityFeed(this, { fixed: { subject_type: "peer", subject_id: this.peerId }, withFilters: false, title: "History of this peer" });
    container.append(
      h(
        "nav",
        { "aria-label": "Breadcrumb" },
        h(
          "ol",
          { class: "breadcrumb" },
          h("li", { class: "breadcrumb-item" }, h("a", { href: "/ui/admin" }, "Admin")),
          h("li", { class: "breadcrumb-item" }, h("a", { href: "/ui/admin/peers" }, "Federation peers")),
          this.crumb,
        ),
      ),
      h("div", { class: "d-flex flex-wrap align-items-center gap-3 mb-3" }, this.heading, this.statusBadge),
      h("div", { class: "mb-4" }, this.actions),
      this.notice,
      h(
        "div",
        { class: "row g-4 mb-4" },
        h(
          "div",
          { class: "col-lg-6" },
          this.card("Health", "heart-pulse", this.health),
          this.card("Mirroring", "arrow-repeat", this.sync),
          this.card("Settings", "sliders", this.config),
        ),
        h("div", { class: "col-lg-6" }, this.card("Edit settings", "pencil-square", this.formSlot)),
      ),
      this.feed.element(),
    );
    this.show(peer);
    await this.feed.reload();
  }

  afterRender() {
    if (!this.heading) return;
    this.every(REFRESH_EVERY_MS, async () => {
      if (document.hidden) return;
      try {
        this.show(await this.load(), { keepForm: true });
      } catch (error) {
        if (error.name !== "AbortError") replaceChildren(this.notice, errorState(error));
      }
    });
  }

  card(title, iconName, body) {
    return h("section", { class: "card mb-3" }, h("div", { class: "card-body" }, h("h2", { class: "h6 mb-3" }, icon(iconName), " ", title), body));
  }

  /** The peer merged with its health report (the circuit breaker's view of it). */
  async load() {
    const [peer, status] = await Promise.all([
      this.api.get(peerPath(this.peerId), { signal: this.signal }),
      this.api.get("/api/v1/admin/federation/status", { signal: this.signal }),
    ]);
    return { ...peer, ...(status.peers.find((item) => item.id === peer.id) || {}) };
  }

  show(peer, { keepForm = false } = {}) {
    this.peer = peer;
    document.title = `${peer.name} · Federation peer · ${this.context.config.registry_name}`;
    this.heading.textContent = peer.name;
    this.crumb.textContent = peer.name;
    replaceChildren(this.statusBadge, peerStatusBadge(peer.status));
    this.drawActions(peer);
    replaceChildren(
      this.health,
      facts([
        ["Status", peerStatusBadge(peer.status)],
        ["Last contact", peerContact(peer)],
        ["Circuit breaker", circuitText(peer.circuit)],
        peer.retry_at ? ["Tried again", when(peer.retry_at)] : null,
        ["Consecutive failures", String(peer.consecutive_failures)],
        ["Last answer", when(peer.last_seen_at)],
        ["Last failure", when(peer.last_failure_at)],
        ["Last error", peer.last_error ? h("span", { class: "text-danger-emphasis" }, peer.last_error) : "None"],
      ]),
    );
    replaceChildren(
      this.sync,
      peer.change_cursor > 0
        ? h("p", { class: "small mb-0" }, `This registry has mirrored the peer's agent changes up to change #${peer.change_cursor}.`)
        : h("p", { class: "small text-body-secondary mb-0" }, "Not mirrored: this registry asks the peer live in each federated search and has pulled none of its change feed."),
    );
    replaceChildren(
      this.config,
      facts([
        ["Registry URL", h("a", { href: peer.registry_url, rel: "noopener noreferrer", target: "_blank", class: "font-monospace-wrap" }, peer.registry_url)],
        ["Admin contact", peer.admin_contact],
        ["SPIFFE ID", peer.spiffe_id || "—"],
        ["Peer id", h("span", { class: "font-monospace-wrap" }, peer.id)],
        ["Added", when(peer.created_at)],
        ["Changed", when(peer.updated_at)],
      ]),
    );
    if (!keepForm) replaceChildren(this.formSlot, this.editForm(peer));
  }

  drawActions(peer) {
    const disabled = peer.status === "disabled";
    const run = (button, work) => async () => {
      replaceChildren(this.notice);
      try {
        await busy(button, work);
      } catch (error) {
        if (error.name !== "AbortError") replaceChildren(this.notice, errorState(error));
      }
    };
    const toggle = h("button", { type: "button", class: "btn btn-outline-secondary" }, disabled ? [icon("play-circle"), " Enable"] : [icon("pause-circle"), " Disable"]);
    toggle.addEventListener(
      "click",
      run(toggle, async () => {
        await setStatus(this.api, peer, disabled ? "active" : "disabled");
        await this.refreshAll();
      }),
    );
    const rotate = h("button", { type: "button", class: "btn btn-outline-secondary" }, icon("key"), " Rotate token");
    rotate.addEventListener("click", run(rotate, async () => (await rotateToken(this.api, peer)) && this.feed.reload()));
    const check = h("button", { type: "button", class: "btn btn-outline-primary", disabled }, icon("broadcast"), " Check now");
    check.addEventListener(
      "click",
      run(check, async () => {
        const answer = (await checkPeers(this.api, this.signal)).find((item) => item.name === peer.name);
        replaceChildren(
          this.notice,
          h(
            "div",
            { class: `alert ${answer && answer.status === "ok" ? "alert-success" : "alert-warning"}`, role: "status", dataset: { checkResult: "" } },
            answer
              ? [`${peer.name}: ${answer.status}`, typeof answer.latency_ms === "number" ? ` in ${Math.round(answer.latency_ms)} ms` : "", answer.error ? ` (${answer.error})` : ""]
              : `${peer.name} was not asked: its circuit breaker is open.`,
          ),
        );
        this.later(300, () => this.refreshAll({ keepForm: true }));
      }),
    );
    const remove = h("button", { type: "button", class: "btn btn-outline-danger" }, icon("trash"), " Delete");
    remove.addEventListener(
      "click",
      run(remove, async () => {
        if (await deletePeer(this.api, peer)) this.router.navigate("/ui/admin/peers");
      }),
    );
    replaceChildren(this.actions, check, toggle, rotate, remove);
  }

  async refreshAll(options) {
    this.show(await this.load(), options);
    await this.feed.reload();
  }

  editForm(peer) {
    const button = h("button", { type: "submit", class: "btn btn-primary" }, "Save changes");
    const form = h("form", { "aria-label": "Edit peer settings", novalidate: true, dataset: { editPeerForm: "" } }, errorSummary(), peerFields(peer), button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = updateBody(this.peer, formValues(form));
      if (!Object.keys(body).length) {
        replaceChildren(form.querySelector("[data-form-errors]"), h("div", { class: "alert alert-secondary", role: "status" }, "Nothing changed."));
        return;
      }
      try {
        await busy(button, () => this.api.put(peerPath(peer.id), body), "Saving…");
        await this.refreshAll();
        replaceChildren(this.notice, h("div", { class: "alert alert-success", role: "status" }, icon("check-circle"), " Saved."));
      } catch (error) {
        if (error.name !== "AbortError") showErrors(form, error);
      }
    });
    for (const control of form.elements) control.addEventListener("input", () => control.classList.remove("is-invalid"));
    return form;
  }
}

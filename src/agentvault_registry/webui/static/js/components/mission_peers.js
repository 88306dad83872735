// Mission Control's federation peer health, for admins: each peer's status, circuit breaker,
// latency and last error as GET /api/v1/admin/federation/status reports them, and the count
// of healthy peers for the counters.

import { emptyState, errorState, h, icon, loadingState, replaceChildren } from "../core/dom.js";
import { timeAgo } from "./dashboard_activity.js";

const CIRCUITS = { closed: "queried", open: "skipped for now", half_open: "trying again" };

/** How a peer is doing, from its record and its circuit breaker. */
function peerHealth(peer) {
  if (peer.status === "disabled") return { label: "disabled", badge: "text-bg-secondary" };
  if (peer.status === "unhealthy" || peer.circuit === "open") return { label: "unhealthy", badge: "text-bg-danger" };
  if (peer.consecutive_failures > 0) return { label: "failing", badge: "text-bg-warning" };
  if (peer.last_seen_at) return { label: "answering", badge: "text-bg-success" };
  return { label: "not asked yet", badge: "text-bg-secondary" };
}

export class MissionPeers {
  constructor(view) {
    this.view = view;
    this.peersHealthy = h("div", { class: "stat-value", "data-counter": "peers" }, "…");
    this.peersBody = h("div", { "data-section": "peers" }, loadingState("Loading peer health…"));
  }

  render() {
    return h(
      "section",
      { class: "col-12", "aria-labelledby": "mc-peers-heading" },
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "card-header bg-body d-flex align-items-center justify-content-between gap-2" },
          h("h2", { class: "h6 mb-0", id: "mc-peers-heading" }, icon("diagram-3"), " Federation peer health"),
          h("a", { class: "small", href: "/ui/admin/peers" }, "Manage peers"),
        ),
        h("div", { class: "card-body" }, this.peersBody),
      ),
    );
  }

  async load() {
    try {
      const report = await this.view.api.get("/api/v1/admin/federation/status", { signal: this.view.signal });
      this.draw(report);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.peersHealthy.textContent = "—";
      replaceChildren(this.peersBody, errorState(error, () => this.load()));
    }
  }

  draw(report) {
    const peers = report.peers;
    const enabled = peers.filter((peer) => peer.status !== "disabled");
    const healthy = enabled.filter((peer) => peerHealth(peer).label === "answering");
    this.peersHealthy.textContent = peers.length ? `${healthy.length} / ${enabled.length}` : "—";
    if (!peers.length) {
      replaceChildren(
        this.peersBody,
        emptyState({
          iconName: "diagram-3",
          title: "No federation peers",
          text: "Peer with another registry so searches here reach the agents listed there.",
          action: h("a", { class: "btn btn-sm btn-outline-primary", href: "/ui/admin/peers" }, "Add a peer"),
        }),
      );
      return;
    }
    replaceChildren(
      this.peersBody,
      h(
        "div",
        { class: "table-responsive" },
        h(
          "table",
          { class: "table table-sm align-middle mb-0", "data-peers": "" },
          h("caption", { class: "visually-hidden" }, "Each peer's status, circuit breaker, latency and last error"),
          h("thead", {}, h("tr", {}, ["Peer", "Health", "Circuit", "Latency", "Last answer", "Last error"].map((title) => h("th", { scope: "col" }, title)))),
          h(
            "tbody",
            {},
            peers.map((peer) => {
              const health = peerHealth(peer);
              return h(
                "tr",
                { dataset: { peerId: peer.id, peerHealth: health.label } },
                h("td", { class: "mc-peer" }, h("a", { href: `/ui/admin/peers/${encodeURIComponent(peer.id)}`, class: "fw-semibold" }, peer.name), h("div", { class: "small text-body-secondary text-break" }, peer.registry_url)),
                h("td", {}, h("span", { class: `badge ${health.badge}` }, health.label), peer.consecutive_failures ? h("div", { class: "small text-body-secondary" }, `${peer.consecutive_failures} failed in a row`) : null),
                h("td", { class: "small" }, CIRCUITS[peer.circuit] || peer.circuit, peer.retry_at ? h("div", { class: "text-body-secondary" }, "retry ", timeAgo(peer.retry_at)) : null),
                h("td", { class: "small text-nowrap" }, peer.last_latency_ms === null ? "—" : `${Math.round(peer.last_latency_ms)} ms`),
                h("td", { class: "small text-nowrap" }, peer.last_seen_at ? timeAgo(peer.last_seen_at) : "never"),
                h("td", { class: "small text-break" }, peer.last_error ? h("span", { class: "text-danger-emphasis" }, peer.last_error) : h("span", { class: "text-body-secondary" }, "none")),
              );
            }),
          ),
        ),
      ),
    );
  }
}

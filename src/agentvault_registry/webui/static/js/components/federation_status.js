// The line under a federated search saying which peer registries answered, how fast, and
// which did not; the agent grid and the Galactic Map both show it.

import { h, icon } from "../core/dom.js";

const PEER_BADGES = { ok: "success", timeout: "warning", error: "danger", skipped: "secondary" };

function peerBadge(peer) {
  const kind = PEER_BADGES[peer.status] || "secondary";
  const latency = typeof peer.latency_ms === "number" ? ` · ${Math.round(peer.latency_ms)} ms` : "";
  const said = peer.status === "ok" ? "answered" : peer.status === "skipped" ? "skipped" : `did not answer: ${peer.status}`;
  return h(
    "li",
    { class: "list-inline-item", dataset: { peer: peer.name, peerStatus: peer.status } },
    h("span", { class: `badge text-bg-${kind}` }, icon(peer.status === "ok" ? "check-circle" : "exclamation-circle"), " ", peer.name, ` (${said}${latency}${peer.cached ? ", cached" : ""})`),
  );
}

/** A discovery answer's federation_status as a status line; null when none was asked. */
export function federationStatus(status) {
  if (!status || !status.requested) return null;
  return h(
    "div",
    { class: "alert alert-light border d-flex flex-wrap gap-2 align-items-center py-2", role: "status" },
    h("span", {}, icon("globe2"), ` ${status.peers_responded} of ${status.peers_queried} peer registries answered in ${Math.round(status.query_time_ms)} ms:`),
    status.peers.length ? h("ul", { class: "list-inline mb-0" }, status.peers.map(peerBadge)) : h("span", {}, "this registry has no peers yet."),
  );
}

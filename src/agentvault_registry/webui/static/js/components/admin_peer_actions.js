// What an admin does to a federation peer, from the peer list and from its own page alike:
// the form fields as the API takes them, rotate the inbound token, disable or enable, delete,
// and check the peers' health with a federated search.

import { toast } from "../core/dom.js";
import { field } from "../core/forms.js";
import { showPeerToken } from "./admin_ui.js";
import { confirmAction } from "./modal.js";

export const PEERS_PATH = "/api/v1/admin/federation/peers";
const PER_PAGE = 100;

export function peerPath(peerId) {
  return `${PEERS_PATH}/${encodeURIComponent(peerId)}`;
}

/**
 * The fields of the add form (peer omitted) or the edit form (the peer's values filled in;
 * the token field then stays empty and is sent only when filled).
 */
export function peerFields(peer = null) {
  const editing = peer !== null;
  return [
    field({ name: "name", label: "Name", required: true, maxLength: 100, autocomplete: "off", value: peer?.name ?? "", help: editing ? null : "How this registry names the peer in search results." }),
    field({ name: "registry_url", label: "Registry URL", type: "url", required: true, autocomplete: "off", placeholder: "https://registry.example.org", value: peer?.registry_url ?? "", help: "The peer's base URL, without /api/v1." }),
    field({ name: "admin_contact", label: "Admin contact", required: true, autocomplete: "off", placeholder: "ops@example.org", value: peer?.admin_contact ?? "" }),
    field({
      name: "federation_access_token",
      label: editing ? "New federation access token" : "Federation access token",
      type: "password",
      required: !editing,
      autocomplete: "off",
     
      help: editing
        ? "Leave empty to keep the stored token. A new registry URL needs the token that registry issued."
        : "The token the peer's administrator issued for this registry. It is stored encrypted and never shown again.",
    }),
    field({ name: "spiffe_id", label: "SPIFFE ID (optional)", autocomplete: "off", placeholder: "spiffe://example.org/registry", value: peer?.spiffe_id ?? "" }),
    field({
      name: "status",
      label: "Status",
      kind: "select",
      help: "A disabled peer is never queried and its queries are refused.",
      options: [
        { value: "active", label: "Active", selected: !peer || peer.status !== "disabled" },
        { value: "disabled", label: "Disabled", selected: peer?.status === "disabled" },
      ],
    }),
  ];
}

/** The body for POST from the add form's values. */
export function createBody(values) {
  const body = { ...values };
  if (!body.spiffe_id) delete body.spiffe_id;
  return body;
}

/** The body for PUT: only what the edit form changed (a cleared SPIFFE ID becomes null). */
export function updateBody(peer, values) {
  const body = {};
  for (const name of ["name", "registry_url", "admin_contact"]) {
    if (values[name] !== undefined && values[name] !== peer[name]) body[name] = values[name];
  }
  if (values.federation_access_token) body.federation_access_token = values.federation_access_token;
  const spiffe = values.spiffe_id || null;
  if (spiffe !== (peer.spiffe_id || null)) body.spiffe_id = spiffe;
  // The health bookkeeping may have marked the peer unhealthy; the form shows that as active.
  const wasActive = peer.status !== "disabled";
  if ((values.status === "disabled") === wasActive) body.status = values.status;
  return body;
}

/** Every peer (tens at most, so every page is read) merged with its health report. */
export async function loadPeers(api, signal) {
  const peers = [];
  for (let page = 1; ; page += 1) {
    const answer = await api.get(PEERS_PATH, { query: { page, per_page: PER_PAGE }, signal });
    peers.push(...answer.peers);
    if (page >= answer.pagination.pages) break;
  }
  const status = await api.get("/api/v1/admin/federation/status", { signal });
  const health = new Map(status.peers.map((peer) => [peer.id, peer]));
  return peers.map((peer) => ({ ...peer, ...(health.get(peer.id) || {}) }));
}

export async function rotateToken(api, peer) {
  const confirmed = await confirmAction({
    title: `Rotate ${peer.name}'s token?`,
    body: `The inbound token ${peer.name} presents stops working at once. Its administrator must store the new one before its next query.`,
    confirmLabel: "Rotate token",
  });
  if (!confirmed) return false;
  const issued = await api.post(`${peerPath(peer.id)}/rotate-token`);
  await showPeerToken({ peerName: issued.name, token: issued.inbound_token, rotated: true });
  return true;
}

export async function setStatus(api, peer, status) {
  const updated = await api.put(peerPath(peer.id), { status });
  toast(status === "disabled" ? `${peer.name} is disabled: it is no longer queried and its queries are refused.` : `${peer.name} is active again.`);
  return updated;
}

export async function deletePeer(api, peer) {
  const confirmed = await confirmAction({
    title: `Delete ${peer.name}?`,
    body: `This registry stops querying ${peer.registry_url} and refuses its token. Adding it again needs new tokens on both sides.`,
    confirmLabel: "Delete peer",
  });
  if (!confirmed) return false;
  await api.delete(peerPath(peer.id));
  toast(`${peer.name} is deleted.`);
  return true;
}

/**
 * Ask every active peer now, through a federated search as any client makes one, and
 * return each peer's answer ({name, status, latency_ms, error}). The search text is unique
 * so no peer's answer comes from this registry's cache.
 */
export async function checkPeers(api, signal) {
  const nonce = `peer-health-check-${Date.now().toString(36)}`;
  const answer = await api.get("/api/v1/discovery/agents", { query: { include_federated: "true", per_page: 1, q: nonce }, signal });
  return answer.federation_status.peers;
}

// Pieces the admin pages share: status badges, the dialog showing a peer's token once, and
// the short health line of a federation peer.

import { copyText, h, icon, relativeTime } from "../core/dom.js";
import { openModal } from "./modal.js";

const PEER_STATUS_STYLES = {
  active: ["text-bg-success", "check-circle", "Active"],
  disabled: ["text-bg-secondary", "pause-circle", "Disabled"],
  unhealthy: ["text-bg-danger", "exclamation-octagon", "Unhealthy"],
};

const CIRCUIT_TEXT = {
  closed: "Queried normally",
  open: "Skipped (circuit open)",
  half_open: "Next query is a trial",
};

/** A peer's status as a badge: colour, icon and word, so colour is never the only cue. */
export function peerStatusBadge(status) {
  const [style, iconName, label] = PEER_STATUS_STYLES[status] || ["text-bg-light", "question-circle", status];
  return h("span", { class: `badge ${style}`, dataset: { peerStatus: status } }, icon(iconName), " ", label);
}

export function circuitText(circuit) {
  return CIRCUIT_TEXT[circuit] || circuit || "—";
}

/** Latency and last contact of a peer in a few words ("12 ms · 2 minutes ago"). */
export function peerContact(peer) {
  if (!peer.last_seen_at && !peer.last_failure_at) return "Not contacted yet";
  const parts = [];
  if (typeof peer.last_latency_ms === "number") parts.push(`${Math.round(peer.last_latency_ms)} ms`);
  if (peer.last_seen_at) parts.push(`answered ${relativeTime(peer.last_seen_at)}`);
  else parts.push("never answered");
  const text = parts.join(" · ");
  return text[0].toUpperCase() + text.slice(1);
}

/** A badge for a yes/no fact with words for both ("Active" / "Deactivated"). */
export function flagBadge(value, yes, no) {
  return h("span", { class: `badge ${value ? "text-bg-success" : "text-bg-secondary"}` }, value ? yes : no);
}

/**
 * The inbound token the registry just issued for a peer, shown this once: the registry keeps
 * only its digest, so it cannot be shown again. Resolves when the admin closes the dialog.
 */
export function showPeerToken({ peerName, token, rotated = false }) {
  return openModal(({ labelId, decide }) => {
    const inputId = `${labelId}-token`;
    const input = h("input", { id: inputId, class: "form-control font-monospace", readOnly: true, value: token, dataset: { issuedToken: "" } });
    const hint = h("div", { class: "form-text", "aria-live": "polite" });
    const copy = h("button", { type: "button", class: "btn btn-outline-primary" }, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await copyText(token, copy);
      } catch {
        // No clipboard access (an insecure origin, a refused permission): select it instead.
        input.focus();
        input.select();
        hint.textContent = "Copying is not allowed here; the token is selected, copy it with Ctrl+C or ⌘C.";
      }
    });
    input.addEventListener("focus", () => input.select());
    return {
      title: rotated ? `New token for ${peerName}` : `${peerName} is added`,
      body: [
        h(
          "p",
          {},
          rotated
            ? "The old inbound token stopped working. Give this one to the peer's administrator: "
            : "This is the inbound token this registry issued for the peer. Give it to the peer's administrator: ",
          `${peerName} must store it as the federation token it presents when it queries this registry.`,
        ),
        h("label", { class: "form-label", for: inputId }, "Inbound token"),
        h("div", { class: "input-group" }, input, copy),
        h("div", { class: "mb-3" }, hint),
        h(
          "div",
          { class: "alert alert-warning mb-0", role: "note" },
          icon("eye-slash"),
          " It is shown only now. The registry keeps a digest, never the token; if it is lost, rotate the token.",
        ),
      ],
      footer: h("button", { type: "button", class: "btn btn-primary", onclick: () => decide(true) }, "I have stored it"),
    };
  });
}

/** A table row's action button: an icon and its words. */
export function actionButton(iconName, label, style = "btn-outline-secondary") {
  return h("button", { type: "button", class: `btn btn-sm ${style}` }, icon(iconName), ` ${label}`);
}

/** A short form of a long id, with the whole id for hover and screen readers. */
export function shortId(id) {
  if (!id) return "—";
  return h("span", { class: "font-monospace", title: id }, id.length > 12 ? `${id.slice(0, 8)}…` : id);
}

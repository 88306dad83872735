// Activity log entries (GET /api/v1/me/activity, the event stream) told as sentences: "You
// registered agent Echo", "Agent Scout registered itself with a bootstrap token", with the
// time as "3 minutes ago" that stays current.

import { formatDate, h, icon, relativeTime } from "../core/dom.js";

function agentName(entry) {
  return (entry.details && entry.details.name) || "an agent";
}

function agentLink(entry) {
  const name = agentName(entry);
  if (!entry.subject_id || entry.action === "agent.deleted") return h("strong", {}, name);
  return h("a", { href: `/ui/discovery/agents/${encodeURIComponent(entry.subject_id)}`, class: "fw-semibold" }, name);
}

function peerName(entry) {
  return h("strong", {}, (entry.details && entry.details.name) || "a peer registry");
}

/** "You" when the viewer did it, otherwise who did, as far as the entry tells. */
function who(entry, viewerId) {
  if (entry.actor_kind === "user" && viewerId && entry.actor_id === viewerId) return "You";
  if (entry.actor_kind === "agent") return "The agent";
  if (entry.actor_kind === "peer") return "A peer registry";
  if (entry.actor_kind === "system") return "The registry";
  return "Someone";
}

const AGENT_VERBS = { "agent.created": "registered", "agent.updated": "updated", "agent.deleted": "deleted" };

function agentSentence(entry, viewerId) {
  const verb = AGENT_VERBS[entry.action] || entry.action.slice("agent.".length).replaceAll("_", " ");
  if (entry.action === "agent.created" && entry.actor_kind === "agent") {
    return ["Agent ", agentLink(entry), " registered itself with a bootstrap token"];
  }
  const actor = who(entry, viewerId);
  if (actor === "Someone") return ["Agent ", agentLink(entry), ` was ${verb}`];
  if (actor === "The registry" && entry.action === "agent.updated" && entry.details && entry.details.status) {
    return ["The registry updated agent ", agentLink(entry), ` (now ${entry.details.status})`];
  }
  return [`${actor} ${verb} agent `, agentLink(entry)];
}

const SENTENCES = {
  "auth.registered": (entry, actor) => (actor === "You" ? "You created your account" : ["Account ", h("strong", {}, entry.details.username || "—"), " was created"]),
  "auth.email_verified": (entry, actor) => (actor === "You" ? "You verified your email address" : "An email address was verified"),
  "auth.login": (entry, actor) => (actor === "You" ? "You signed in" : "Someone signed in"),
  "auth.login_failed": () => "A sign-in attempt failed (wrong password)",
  "auth.logout": (entry, actor) => (actor === "You" ? "You signed out" : "Someone signed out"),
  "auth.password_changed": (entry, actor) => (actor === "You" ? "You changed your password" : "A password was changed"),
  "auth.recovery_requested": () => "A password reset was requested",
  "api_key.created": (entry, actor) => [`${actor} created API key `, h("strong", {}, entry.details.name || "—")],
  "api_key.revoked": (entry, actor) => `${actor} revoked an API key`,
  "bootstrap_token.issued": (entry, actor) => `${actor} generated a bootstrap token`,
  "bootstrap_token.redeemed": (entry, actor, viewerId) =>
    entry.owner_id === viewerId || actor === "The agent" ? "An agent registered itself with your bootstrap token" : "A bootstrap token was redeemed",
  "peer.added": (entry, actor) => [`${actor} added federation peer `, peerName(entry)],
  "peer.updated": (entry, actor) => [`${actor} updated federation peer `, peerName(entry)],
  "peer.removed": (entry, actor) => [`${actor} removed a federation peer`],
};

const ICONS = {
  "agent.created": "robot",
  "agent.updated": "pencil-square",
  "agent.deleted": "trash",
  "auth.registered": "person-plus",
  "auth.email_verified": "envelope-check",
  "auth.login": "box-arrow-in-right",
  "auth.login_failed": "shield-exclamation",
  "auth.logout": "box-arrow-right",
  "auth.password_changed": "key",
  "auth.recovery_requested": "question-circle",
  "api_key.created": "key",
  "api_key.revoked": "key",
  "bootstrap_token.issued": "ticket-perforated",
  "bootstrap_token.redeemed": "ticket-perforated",
  "peer.added": "diagram-3",
  "peer.updated": "diagram-3",
  "peer.removed": "diagram-3",
};

/** The Bootstrap Icons name for an entry's action. */
export function activityIcon(entry) {
  return ICONS[entry.action] || (entry.action.startsWith("peer.") ? "diagram-3" : "activity");
}

/** The entry as a sentence: an array of strings and nodes (links to agents). */
export function describeActivity(entry, viewerId) {
  if (entry.action.startsWith("agent.")) return agentSentence(entry, viewerId);
  const sentence = SENTENCES[entry.action];
  const actor = who(entry, viewerId);
  if (sentence) return sentence({ ...entry, details: entry.details || {} }, actor, viewerId);
  return `${actor} · ${entry.action.replaceAll(/[._]/g, " ")}`;
}

/** A <time> that says "3 minutes ago"; refreshRelativeTimes keeps it current. */
export function timeAgo(value) {
  return h("time", { datetime: value, title: formatDate(value), dataset: { relative: value } }, relativeTime(value));
}

export function refreshRelativeTimes(root) {
  const now = Date.now();
  for (const element of root.querySelectorAll("time[data-relative]")) {
    element.textContent = relativeTime(element.dataset.relative, now);
  }
}

/** One entry as a list item: icon, sentence, time. */
export function activityItem(entry, viewerId, props = {}) {
  return h(
    "li",
    { class: "activity-item d-flex gap-3 align-items-start", dataset: { seq: String(entry.seq), action: entry.action }, ...props },
    h("span", { class: "activity-icon text-primary" }, icon(activityIcon(entry))),
    h("div", { class: "flex-grow-1 min-w-0" }, h("div", { class: "activity-text" }, describeActivity(entry, viewerId)), h("div", { class: "small text-body-secondary" }, timeAgo(entry.occurred_at))),
  );
}

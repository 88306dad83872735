// Mission Control: the registry as it happens. A live feed from the event stream, agents
// registered per minute over the last half hour, counters and the connection's state; for
// admins also searches per minute and the federation peers' health. The feed, the rates and
// the peers are components; this view lays them out, holds the stream and routes its events.

import { refreshRelativeTimes } from "../components/dashboard_activity.js";
import { FIRST_RATE_AFTER_MS, MissionCharts, STATS_EVERY_MS, WINDOW_MINUTES } from "../components/mission_charts.js";
import { MissionFeed } from "../components/mission_feed.js";
import { MissionPeers } from "../components/mission_peers.js";
import { formatCount, h, icon, replaceChildren } from "../core/dom.js";
import { openEventStream } from "../core/event_stream.js";
import { View } from "../core/view.js";

const SEED_AGENTS = 100;
// What the feed follows: agents, onboarding, federation, keys and new accounts; sign-ins
// and sign-outs would drown the rest.
const STREAM_TYPES = ["agent.", "bootstrap_token.", "peer.", "api_key.", "auth.registered"];
const PEERS_EVERY_MS = 30_000;
const CLOCK_EVERY_MS = 10_000;
// Bursts of events refetch the agent total and the peers once, not once each.
const SETTLE_MS = 700;

const CONNECTION = {
  connecting: { label: "Connecting…", badge: "text-bg-secondary", iconName: "hourglass-split" },
  live: { label: "Live", badge: "text-bg-success", iconName: "broadcast" },
  reconnecting: { label: "Reconnecting…", badge: "text-bg-warning", iconName: "arrow-repeat" },
  offline: { label: "Offline", badge: "text-bg-danger", iconName: "wifi-off" },
  stopped: { label: "Disconnected", badge: "text-bg-danger", iconName: "x-circle" },
};

function counter(label, valueNode, iconName, hint) {
  return h(
    "div",
    { class: "col" },
    h(
      "div",
      { class: "card h-100" },
      h(
        "div",
        { class: "card-body" },
        h("div", { class: "small text-body-secondary" }, icon(iconName), " ", label),
        valueNode,
        hint ? h("div", { class: "small text-body-secondary" }, hint) : null,
      ),
    ),
  );
}

export default class MissionControlView extends View {
  async render(container) {
    await super.render(container);
    this.admin = this.session.isAdmin;
    this.seen = new Set();
    this.eventCount = 0;
    this.connectionState = null;
    this.feed = new MissionFeed(this.session);
    this.charts = new MissionCharts(this);
    this.peers = new MissionPeers(this);

    this.statusBadge = h("span", { class: "badge text-bg-secondary fs-6 fw-normal", "data-connection": "connecting" }, icon("hourglass-split"), " Connecting…");
    this.statusDetail = h("span", { class: "small text-body-secondary" });
    // Announced politely: state changes only, never the countdown.
    this.statusAnnouncer = h("div", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true", role: "status" });
    this.reconnectButton = h("button", { type: "button", class: "btn btn-sm btn-outline-danger", hidden: true, onclick: () => this.connect() }, icon("arrow-repeat"), " Reconnect");

    this.agentTotal = h("div", { class: "stat-value", "data-counter": "agents" }, "…");
    this.eventCounter = h("div", { class: "stat-value", "data-counter": "events" }, "0");

    replaceChildren(
      container,
      h(
        "div",
        { class: "d-flex flex-wrap align-items-end justify-content-between gap-3 mb-3" },
        h(
          "div",
          {},
          h("h1", { class: "h2 mb-1" }, icon("broadcast"), " Mission Control"),
          h("p", { class: "text-body-secondary mb-0" }, "The registry as it happens: agents registered, changed and removed, live from its event stream."),
        ),
        h("div", { class: "d-flex flex-wrap align-items-center gap-2", "data-connection-panel": "" }, this.statusBadge, this.statusDetail, this.reconnectButton, this.statusAnnouncer),
      ),
      this.admin
        ? null
        : h(
            "div",
            { class: "alert alert-info d-flex gap-2 align-items-start", "data-note": "non-admin" },
            icon("info-circle"),
            h("div", {}, "You see every agent's public events and your own activity. Registry-wide statistics (searches per minute, federation peer health) are for admins."),
          ),
      h(
        "div",
        { class: `row row-cols-2 ${this.admin ? "row-cols-xl-5" : "row-cols-lg-3"} g-3 mb-4` },
        counter("Agents listed", this.agentTotal, "robot", "in this registry now"),
        counter("Registered", this.charts.registeredCount, "plus-circle", `last ${WINDOW_MINUTES} minutes`),
        counter("Events received", this.eventCounter, "lightning", "since you opened this page"),
        this.admin ? counter("Searches per minute", this.charts.searchRate, "search", "over the last minute") : null,
        this.admin ? counter("Healthy peers", this.peers.peersHealthy, "diagram-3", "federation") : null,
      ),
      h("div", { class: "row g-4" }, this.charts.render(), this.feed.render(), this.admin ? this.peers.render() : null),
    );
  }

  async afterRender() {
    this.connect();
    this.every(CLOCK_EVERY_MS, () => {
      refreshRelativeTimes(this.container);
      this.charts.draw();
    });
    if (this.admin) {
      this.every(STATS_EVERY_MS, () => this.charts.pollSearches());
      this.every(PEERS_EVERY_MS, () => this.peers.load());
      // The first poll only sets the baseline: a second one soon gives the first figure.
      this.charts.pollSearches().then(() => this.later(FIRST_RATE_AFTER_MS, () => this.charts.pollSearches()));
      this.peers.load();
    }
    await this.charts.makeChart();
    await this.seedRegistrations();
  }

  // -------------------------------------------------------------- the stream

  connect() {
    if (this.stream) this.stream.close();
    this.reconnectButton.hidden = true;
    this.stream = openEventStream({
      api: this.api,
      session: this.session,
      query: { types: STREAM_TYPES },
      signal: this.signal,
      lastEventId: this.stream ? this.stream.lastEventId : null,
      onEvent: (entry) => this.receive(entry),
      onStatus: (status) => this.showStatus(status),
    });
  }

  showStatus(status) {
    if (this.signal.aborted) return;
    const look = CONNECTION[status.state];
    replaceChildren(this.statusBadge, icon(look.iconName), " ", look.label);
    this.statusBadge.className = `badge ${look.badge} fs-6 fw-normal`;
    this.statusBadge.dataset.connection = status.state;
    let detail = "";
    if (status.state === "reconnecting") detail = `next try in ${Math.max(1, Math.round(status.retryInMs / 1000))} s`;
    else if (status.state === "offline") detail = "your browser is offline; the feed resumes when the network is back";
    else if (status.state === "stopped" && status.error) detail = status.error.message;
    this.statusDetail.textContent = detail;
    this.reconnectButton.hidden = status.state !== "stopped" || !status.error;
    if (status.state !== this.connectionState) {
      this.connectionState = status.state;
      const spoken = { live: "Live: the feed is connected.", reconnecting: "Connection lost; reconnecting.", offline: "Offline.", stopped: `Disconnected. ${detail}` }[status.state];
      if (spoken) this.statusAnnouncer.textContent = spoken;
    }
  }

  receive(entry) {
    // A resumed stream starts after the last id it saw; this guards the feed regardless.
    if (this.seen.has(entry.seq)) return;
    this.seen.add(entry.seq);
    this.eventCount += 1;
    this.eventCounter.textContent = formatCount(this.eventCount);
    if (entry.action === "agent.created" && entry.subject_id) this.charts.registered(entry.subject_id, new Date(entry.occurred_at).getTime());
    if (entry.action === "agent.created" || entry.action === "agent.deleted") this.settle("agents", () => this.loadAgentTotal());
    if (this.admin && entry.action.startsWith("peer.")) this.settle("peers", () => this.peers.load());
    this.feed.add(entry);
  }

  settle(name, work) {
    this.settling = this.settling || {};
    if (this.settling[name]) return;
    this.settling[name] = this.later(SETTLE_MS, () => {
      this.settling[name] = null;
      work();
    });
  }

  // ------------------------------------------------------------ agent counts

  /** The agents registered in the last half hour, from the newest agents (a list, not a
   * search: reading it does not count as one), merged with those the stream announces. */
  async seedRegistrations() {
    try {
      const page = await this.api.get("/api/v1/agents", { query: { per_page: SEED_AGENTS }, signal: this.signal });
      this.showAgentTotal(page.pagination);
      this.charts.seed(page.agents);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.agentTotal.textContent = "—";
      this.charts.seedFailed(error);
    }
  }

  async loadAgentTotal() {
    try {
      const page = await this.api.get("/api/v1/agents", { query: { per_page: 1 }, signal: this.signal });
      this.showAgentTotal(page.pagination);
    } catch (error) {
      if (error.name !== "AbortError") this.agentTotal.textContent = "—";
    }
  }

  showAgentTotal(pagination) {
    this.agentTotal.textContent = formatCount(pagination.total) + (pagination.total_exact === false ? "+" : "");
  }
}

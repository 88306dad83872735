// Mission Control: the registry as it happens. A live feed from the event stream, agents
// registered per minute over the last half hour, counters and the connection's state; for
// admins also searches per minute and the federation peers' health.

import { activityIcon, describeActivity, refreshRelativeTimes, timeAgo } from "../components/dashboard_activity.js";
import { createChart } from "../core/charts.js";
import { emptyState, errorState, formatCount, h, icon, loadingState, replaceChildren } from "../core/dom.js";
import { openEventStream } from "../core/event_stream.js";
import { View } from "../core/view.js";

const WINDOW_MINUTES = 30;
const MINUTE_MS = 60_000;
const FEED_LIMIT = 60;
const SEED_AGENTS = 100;
// What the feed follows: agents, onboarding, federation, keys and new accounts; sign-ins
// and sign-outs would drown the rest.
const STREAM_TYPES = ["agent.", "bootstrap_token.", "peer.", "api_key.", "auth.registered"];
const STATS_EVERY_MS = 15_000;
const FIRST_RATE_AFTER_MS = 5_000;
const PEERS_EVERY_MS = 30_000;
const CLOCK_EVERY_MS = 10_000;
// Bursts of events refetch the agent total and the peers once, not once each.
const SETTLE_MS = 700;

const FEED_FILTERS = {
  all: { label: "All events I may see", matches: () => true },
  agents: { label: "Agent changes", matches: (entry) => entry.action.startsWith("agent.") },
  registrations: { label: "Registrations only", matches: (entry) => entry.action === "agent.created" },
};

const CONNECTION = {
  connecting: { label: "Connecting…", badge: "text-bg-secondary", iconName: "hourglass-split" },
  live: { label: "Live", badge: "text-bg-success", iconName: "broadcast" },
  reconnecting: { label: "Reconnecting…", badge: "text-bg-warning", iconName: "arrow-repeat" },
  offline: { label: "Offline", badge: "text-bg-danger", iconName: "wifi-off" },
  stopped: { label: "Disconnected", badge: "text-bg-danger", iconName: "x-circle" },
};


/** How a peer is doing, from its record and its circuit breaker. */
function peerHealth(peer) {
  if (peer.status === "disabled") return { label: "disabled", badge: "text-bg-secondary" };
  if (peer.status === "unhealthy" || peer.circuit === "open") return { label: "unhealthy", badge: "text-bg-danger" };
  if (peer.consecutive_failures > 0) return { label: "failing", badge: "text-bg-warning" };
  if (peer.last_seen_at) return { label: "answering", badge: "text-bg-success" };
  return { label: "not asked yet", badge: "text-bg-secondary" };
}
const CIRCUITS = { closed: "queried", open: "skipped for now", half_open: "trying again" };

function minuteOf(time) {
  return Math.floor(time / MINUTE_MS);
}

function minuteLabel(minute) {
  return new Date(minute * MINUTE_MS).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Counts per minute over the last WINDOW_MINUTES minutes, oldest first. */
function perMinute(times, now = Date.now()) {
  const last = minuteOf(now);
  const counts = new Array(WINDOW_MINUTES).fill(0);
  for (const time of times) {
    const index = WINDOW_MINUTES - 1 - (last - minuteOf(time));
    if (index >= 0 && index < WINDOW_MINUTES) counts[index] += 1;
  }
  return counts;
}

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

function todaysCount(days) {
  const today = new Date().toISOString().slice(0, 10);
  const found = days.find((item) => item.day === today);
  return found ? found.count : 0;
}

export default class MissionControlView extends View {
  async render(container) {
    await super.render(container);
    this.admin = this.session.isAdmin;
    this.seen = new Set();
    this.registrations = new Map();
    this.searchSamples = [];
    this.lastSearchCount = null;
    this.eventCount = 0;
    this.paused = false;
    this.held = [];
    this.filter = "all";
    this.connectionState = null;

    this.statusBadge = h("span", { class: "badge text-bg-secondary fs-6 fw-normal", "data-connection": "connecting" }, icon("hourglass-split"), " Connecting…");
    this.statusDetail = h("span", { class: "small text-body-secondary" });
    // Announced politely: state changes only, never the countdown.
    this.statusAnnouncer = h("div", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true", role: "status" });
    this.reconnectButton = h("button", { type: "button", class: "btn btn-sm btn-outline-danger", hidden: true, onclick: () => this.connect() }, icon("arrow-repeat"), " Reconnect");
    this.pauseButton = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary text-nowrap", "aria-pressed": "false", onclick: () => this.togglePause() });
    this.heldNotice = h("div", { class: "small text-body-secondary", "aria-live": "polite" });
    const filterSelect = h(
      "select",
      { class: "form-select form-select-sm", id: "mc-feed-filter", onchange: (event) => this.setFilter(event.target.value) },
      Object.entries(FEED_FILTERS).map(([value, filter]) => h("option", { value }, filter.label)),
    );

    this.agentTotal = h("div", { class: "stat-value", "data-counter": "agents" }, "…");
    this.registeredCount = h("div", { class: "stat-value", "data-counter": "registrations" }, "…");
    this.eventCounter = h("div", { class: "stat-value", "data-counter": "events" }, "0");
    this.searchRate = h("div", { class: "stat-value", "data-counter": "searches" }, "…");
    this.peersHealthy = h("div", { class: "stat-value", "data-counter": "peers" }, "…");

    this.feedList = h("ol", { class: "list-unstyled mb-0 live-feed", "aria-label": "Live events, newest first", "data-feed": "" });
    this.feedEmpty = emptyState({
      iconName: "broadcast",
      title: "Waiting for the next event",
      text: "Register an agent, or let one register itself with a bootstrap token: it appears here the moment the registry records it.",
    });
    // Focusable, so keyboard users can scroll a long feed.
    this.feedBody = h("div", { class: "live-feed-scroll", tabindex: "0", role: "region", "aria-label": "Live feed events" }, this.feedEmpty, this.feedList);

    this.chartCanvas = h("canvas", { role: "img", "aria-label": this.admin ? "Agents registered and searches per minute over the last 30 minutes" : "Agents registered per minute over the last 30 minutes" });
    this.chartSummary = h("p", { class: "small text-body-secondary mb-0 mt-2", "data-chart-summary": "" });
    this.peersBody = h("div", { "data-section": "peers" }, loadingState("Loading peer health…"));

    this.updatePauseButton();
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
        counter("Registered", this.registeredCount, "plus-circle", `last ${WINDOW_MINUTES} minutes`),
        counter("Events received", this.eventCounter, "lightning", "since you opened this page"),
        this.admin ? counter("Searches per minute", this.searchRate, "search", "over the last minute") : null,
        this.admin ? counter("Healthy peers", this.peersHealthy, "diagram-3", "federation") : null,
      ),
      h(
        "div",
        { class: "row g-4" },
        h(
          "section",
          { class: "col-lg-7", "aria-labelledby": "mc-chart-heading" },
          h(
            "div",
            { class: "card h-100" },
            h(
              "div",
              { class: "card-body" },
              h("h2", { class: "h6", id: "mc-chart-heading" }, this.admin ? "Registrations and searches per minute" : "Registrations per minute"),
              h("div", { class: "mc-chart" }, this.chartCanvas),
              this.chartSummary,
              this.admin
                ? h(
                    "p",
                    { class: "small text-body-secondary mb-0 mt-1", "data-note": "searches-measured" },
                    icon("info-circle"),
                    ` How searches are measured: every ${STATS_EVERY_MS / 1000} s this page reads the registry's daily search counter (GET /api/v1/admin/stats) and plots how much it grew. Each registry process adds its searches to that counter in batches (every 10 s by default, the activity plugin's flush_interval), so the figures trail real time by up to half a minute.`,
                  )
                : null,
            ),
          ),
        ),
        h(
          "section",
          { class: "col-lg-5", "aria-labelledby": "mc-feed-heading" },
          h(
            "div",
            { class: "card h-100" },
            h(
              "div",
              { class: "card-header bg-body d-flex flex-wrap align-items-center justify-content-between gap-2" },
              h("h2", { class: "h6 mb-0", id: "mc-feed-heading" }, "Live feed"),
              h(
                "div",
                { class: "d-flex align-items-center gap-2" },
                h("label", { class: "visually-hidden", for: "mc-feed-filter" }, "Show events"),
                filterSelect,
                this.pauseButton,
              ),
            ),
            h("div", { class: "card-body" }, this.heldNotice, this.feedBody),
          ),
        ),
        this.admin
          ? h(
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
            )
          : null,
      ),
    );
  }

  async afterRender() {
    this.connect();
    this.every(CLOCK_EVERY_MS, () => {
      refreshRelativeTimes(this.container);
      this.drawChart();
    });
    if (this.admin) {
      this.every(STATS_EVERY_MS, () => this.pollSearches());
      this.every(PEERS_EVERY_MS, () => this.loadPeers());
      // The first poll only sets the baseline: a second one soon gives the first figure.
      this.pollSearches().then(() => this.later(FIRST_RATE_AFTER_MS, () => this.pollSearches()));
      this.loadPeers();
    }
    this.chart = await this.makeChart();
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
    if (entry.action === "agent.created" && entry.subject_id) {
      this.registrations.set(entry.subject_id, new Date(entry.occurred_at).getTime());
      this.drawChart();
    }
    if (entry.action === "agent.created" || entry.action === "agent.deleted") this.settle("agents", () => this.loadAgentTotal());
    if (this.admin && entry.action.startsWith("peer.")) this.settle("peers", () => this.loadPeers());
    if (this.paused) {
      this.held.push(entry);
      this.updateHeldNotice();
      return;
    }
    this.prepend(entry, true);
  }

  settle(name, work) {
    this.settling = this.settling || {};
    if (this.settling[name]) return;
    this.settling[name] = this.later(SETTLE_MS, () => {
      this.settling[name] = null;
      work();
    });
  }

  // ------------------------------------------------------------------ the feed

  feedItem(entry, fresh) {
    const item = h(
      "li",
      { class: ["live-feed-item d-flex gap-3 align-items-start", fresh ? "live-feed-item-new" : null], dataset: { seq: String(entry.seq), action: entry.action } },
      h("span", { class: "activity-icon text-primary" }, icon(activityIcon(entry))),
      h(
        "div",
        { class: "flex-grow-1 min-w-0" },
        h("div", { class: "activity-text" }, describeActivity(entry, this.session.user.id)),
        h("div", { class: "small text-body-secondary" }, h("code", { class: "small" }, entry.action), " · ", timeAgo(entry.occurred_at)),
      ),
    );
    item.classList.toggle("d-none", !FEED_FILTERS[this.filter].matches(entry));
    item.entry = entry;
    return item;
  }

  prepend(entry, fresh) {
    this.feedList.prepend(this.feedItem(entry, fresh));
    while (this.feedList.children.length > FEED_LIMIT) this.feedList.lastElementChild.remove();
    this.updateFeedEmpty();
  }

  updateFeedEmpty() {
    const visible = Array.from(this.feedList.children).some((item) => !item.classList.contains("d-none"));
    this.feedEmpty.hidden = visible;
  }

  setFilter(value) {
    this.filter = value;
    for (const item of this.feedList.children) item.classList.toggle("d-none", !FEED_FILTERS[value].matches(item.entry));
    this.updateFeedEmpty();
  }

  togglePause() {
    this.paused = !this.paused;
    if (!this.paused) {
      for (const entry of this.held.splice(0)) this.prepend(entry, true);
    }
    this.updatePauseButton();
    this.updateHeldNotice();
  }

  updatePauseButton() {
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    replaceChildren(this.pauseButton, icon(this.paused ? "play-fill" : "pause-fill"), this.paused ? " Resume" : " Pause");
  }

  updateHeldNotice() {
    if (!this.paused) {
      this.heldNotice.textContent = "";
      return;
    }
    const count = this.held.length;
    this.heldNotice.textContent = count
      ? `Paused: ${count} new ${count === 1 ? "event waits" : "events wait"}. Resume to see ${count === 1 ? "it" : "them"}.`
      : "Paused: new events are kept until you resume.";
  }

  // -------------------------------------------------------------- chart, counters

  async makeChart() {
    const datasets = [{ type: "bar", label: "Agents registered", data: new Array(WINDOW_MINUTES).fill(0) }];
    if (this.admin) datasets.push({ type: "line", label: "Searches", data: new Array(WINDOW_MINUTES).fill(0), tension: 0.3, pointRadius: 0, borderWidth: 2 });
    try {
      const chart = await createChart(this.chartCanvas, {
        type: "bar",
        data: { labels: [], datasets },
        options: {
          plugins: { legend: { display: this.admin, position: "bottom" } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 8 } } },
        },
      });
      if (this.signal.aborted) {
        chart.destroy();
        return null;
      }
      this.onDestroy(() => chart.destroy());
      return chart;
    } catch (error) {
      this.chartCanvas.replaceWith(errorState(error));
      return null;
    }
  }

  drawChart() {
    const now = Date.now();
    const registered = perMinute(this.registrations.values(), now);
    const total = registered.reduce((sum, count) => sum + count, 0);
    this.registeredCount.textContent = this.registrationsSeeded ? formatCount(total) : this.registeredCount.textContent;
    let summary = `Last ${WINDOW_MINUTES} minutes: ${formatCount(total)} ${total === 1 ? "agent" : "agents"} registered`;
    let searches = null;
    if (this.admin) {
      searches = new Array(WINDOW_MINUTES).fill(0);
      const last = minuteOf(now);
      for (const sample of this.searchSamples) {
        const index = WINDOW_MINUTES - 1 - (last - minuteOf(sample.time));
        if (index >= 0) searches[index] += sample.count;
      }
      const searched = searches.reduce((sum, count) => sum + count, 0);
      summary += `, ${formatCount(searched)} ${searched === 1 ? "search" : "searches"} counted`;
    }
    this.chartSummary.textContent = `${summary}.`;
    if (!this.chart) return;
    const first = minuteOf(now) - WINDOW_MINUTES + 1;
    this.chart.data.labels = Array.from({ length: WINDOW_MINUTES }, (_, index) => minuteLabel(first + index));
    this.chart.data.datasets[0].data = registered;
    if (searches) this.chart.data.datasets[1].data = searches;
    this.chart.update();
  }

  /** The agents registered in the last half hour, from the newest agents (a list, not a
   * search: reading it does not count as one), merged with those the stream announces. */
  async seedRegistrations() {
    try {
      const page = await this.api.get("/api/v1/agents", { query: { per_page: SEED_AGENTS }, signal: this.signal });
      this.showAgentTotal(page.pagination);
      for (const agent of page.agents) {
        const created = new Date(agent.createdAt).getTime();
        if (!this.registrations.has(agent.id)) this.registrations.set(agent.id, created);
      }
      this.registrationsSeeded = true;
      this.drawChart();
    } catch (error) {
      if (error.name === "AbortError") return;
      this.agentTotal.textContent = "—";
      this.registeredCount.textContent = "—";
      this.chartSummary.textContent = `The recent registrations could not be loaded: ${error.message}`;
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

  /** Searches per minute for admins: how much today's search counter grew since the last
   * poll. The first poll only sets the baseline; a counter that shrank (a new day) too. */
  async pollSearches() {
    try {
      const stats = await this.api.get("/api/v1/admin/stats", { query: { days: 1 }, signal: this.signal });
      const now = Date.now();
      const count = todaysCount(stats.searches);
      if (this.lastSearchCount !== null && count >= this.lastSearchCount) {
        this.searchSamples.push({ time: now, since: this.lastSearchPoll, count: count - this.lastSearchCount });
      }
      this.lastSearchCount = count;
      this.lastSearchPoll = now;
      this.searchSamples = this.searchSamples.filter((sample) => now - sample.time < WINDOW_MINUTES * MINUTE_MS);
      this.showSearchRate(now, count);
      this.drawChart();
    } catch (error) {
      if (error.name !== "AbortError") this.searchRate.textContent = "—";
    }
  }

  /** The polls of the last minute, as searches per minute over the time they cover. */
  showSearchRate(now, today) {
    const recent = this.searchSamples.filter((sample) => now - sample.time <= MINUTE_MS);
    if (!recent.length) {
      this.searchRate.textContent = "…";
      return;
    }
    const searches = recent.reduce((sum, sample) => sum + sample.count, 0);
    const covered = now - Math.min(...recent.map((sample) => sample.since));
    this.searchRate.textContent = formatCount(Math.round((searches * MINUTE_MS) / Math.max(covered, 1)));
    this.searchRate.title = `${formatCount(today)} searches today`;
  }

  // ----------------------------------------------------------- peers (admins)

  async loadPeers() {
    try {
      const report = await this.api.get("/api/v1/admin/federation/status", { signal: this.signal });
      this.renderPeers(report);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.peersHealthy.textContent = "—";
      replaceChildren(this.peersBody, errorState(error, () => this.loadPeers()));
    }
  }

  renderPeers(report) {
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

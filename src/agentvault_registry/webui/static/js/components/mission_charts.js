// Mission Control's rates: agents registered per minute over the last half hour (from the
// newest agents and the stream) and, for admins, searches per minute (from polls of the daily
// search counter), as a chart with a sentence that says the same, and their two counters.

import { createChart } from "../core/charts.js";
import { errorState, formatCount, h, icon } from "../core/dom.js";

export const WINDOW_MINUTES = 30;
const MINUTE_MS = 60_000;
export const STATS_EVERY_MS = 15_000;
export const FIRST_RATE_AFTER_MS = 5_000;

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

function todaysCount(days) {
  const today = new Date().toISOString().slice(0, 10);
  const found = days.find((item) => item.day === today);
  return found ? found.count : 0;
}

export class MissionCharts {
  constructor(view) {
    this.view = view;
    this.admin = view.admin;
    this.registrations = new Map();
    this.searchSamples = [];
    this.lastSearchCount = null;
    this.registeredCount = h("div", { class: "stat-value", "data-counter": "registrations" }, "…");
    this.searchRate = h("div", { class: "stat-value", "data-counter": "searches" }, "…");
    this.chartCanvas = h("canvas", { role: "img", "aria-label": this.admin ? "Agents registered and searches per minute over the last 30 minutes" : "Agents registered per minute over the last 30 minutes" });
    this.chartSummary = h("p", { class: "small text-body-secondary mb-0 mt-2", "data-chart-summary": "" });
  }

  render() {
    return h(
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
    );
  }

  /** The chart itself (Chart.js loads on demand); until it exists, draw() updates the words only. */
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
      if (this.view.signal.aborted) {
        chart.destroy();
        return;
      }
      this.view.onDestroy(() => chart.destroy());
      this.chart = chart;
    } catch (error) {
      this.chartCanvas.replaceWith(errorState(error));
    }
  }

  draw() {
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

  /** An agent the stream announced. */
  registered(agentId, time) {
    this.registrations.set(agentId, time);
    this.draw();
  }

  /** The newest agents, merged with those the stream announced already (which are kept). */
  seed(agents) {
    for (const agent of agents) {
      const created = new Date(agent.createdAt).getTime();
      if (!this.registrations.has(agent.id)) this.registrations.set(agent.id, created);
    }
    this.registrationsSeeded = true;
    this.draw();
  }

  seedFailed(error) {
    this.registeredCount.textContent = "—";
    this.chartSummary.textContent = `The recent registrations could not be loaded: ${error.message}`;
  }

  /** Searches per minute for admins: how much today's search counter grew since the last
   * poll. The first poll only sets the baseline; a counter that shrank (a new day) too. */
  async pollSearches() {
    try {
      const stats = await this.view.api.get("/api/v1/admin/stats", { query: { days: 1 }, signal: this.view.signal });
      const now = Date.now();
      const count = todaysCount(stats.searches);
      if (this.lastSearchCount !== null && count >= this.lastSearchCount) {
        this.searchSamples.push({ time: now, since: this.lastSearchPoll, count: count - this.lastSearchCount });
      }
      this.lastSearchCount = count;
      this.lastSearchPoll = now;
      this.searchSamples = this.searchSamples.filter((sample) => now - sample.time < WINDOW_MINUTES * MINUTE_MS);
      this.showSearchRate(now, count);
      this.draw();
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
}

// Analytics, the admin portal's fourth tab: charts of GET /api/v1/admin/stats over 7, 30 or
// 90 days (the period is part of the address: /ui/admin/analytics?days=30).

import { createChart } from "../core/charts.js";
import { emptyState, errorState, formatCount, h, loadingState, replaceChildren } from "../core/dom.js";

const PERIODS = [7, 30, 90];
const DEFAULT_DAYS = 30;
const DAY_LABEL = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** Every day of the period (the API lists only days with a count), oldest first. */
function daysFrom(since, days) {
  const start = new Date(`${since}T00:00:00Z`);
  return Array.from({ length: days }, (_, index) => new Date(start.getTime() + index * 86_400_000).toISOString().slice(0, 10));
}

function series(days, counts) {
  const byDay = new Map(counts.map((item) => [item.day, item.count]));
  return days.map((day) => byDay.get(day) || 0);
}

function sum(values) {
  return values.reduce((total, value) => total + value, 0);
}

const SLICE_COLORS = ["--bs-primary", "--bs-success", "--bs-warning", "--bs-danger", "--bs-info", "--bs-secondary", "--bs-indigo", "--bs-teal", "--bs-orange", "--bs-pink"];

function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** One theme colour per doughnut slice (a dataset's default is one colour for all). */
function sliceColors(count) {
  return Array.from({ length: count }, (_, index) => themeColor(SLICE_COLORS[index % SLICE_COLORS.length]));
}

function chartCard({ title, summary, wide = false, key }) {
  const canvas = h("canvas", { role: "img", "aria-label": `${title}: ${summary}` });
  const body = h("div", { class: "admin-chart", dataset: { chart: key } }, canvas);
  return {
    canvas,
    body,
    element: h(
      "div",
      { class: wide ? "col-12 col-xl-6" : "col-md-6 col-xl-4" },
      h("div", { class: "card h-100" }, h("div", { class: "card-body" }, h("h3", { class: "h6" }, title), h("p", { class: "small text-body-secondary mb-2" }, summary), body)),
    ),
  };
}

export class AnalyticsSection {
  constructor(view) {
    this.view = view;
    this.api = view.api;
    this.charts = [];
    const asked = Number.parseInt(view.query.get("days"), 10);
    this.days = PERIODS.includes(asked) ? asked : DEFAULT_DAYS;
    view.onDestroy(() => this.destroyCharts());
  }

  async render(container) {
    this.grid = h("div", { class: "row g-3", dataset: { analytics: "" } });
    container.append(
      h(
        "div",
        { class: "d-flex flex-wrap align-items-center justify-content-between gap-2 mb-3" },
        h("h2", { class: "h4 mb-0" }, "Analytics"),
        this.periodPicker(),
      ),
      this.grid,
    );
    await this.load();
  }

  periodPicker() {
    const group = h("div", { class: "btn-group", role: "group", "aria-label": "Period" });
    for (const days of PERIODS) {
      const id = `admin-days-${days}`;
      const input = h("input", { type: "radio", class: "btn-check", name: "admin-days", id, value: String(days), checked: days === this.days, autocomplete: "off" });
      input.addEventListener("change", () => {
        this.days = days;
        window.history.replaceState({}, "", `${window.location.pathname}?days=${days}`);
        this.load();
      });
      group.append(input, h("label", { class: "btn btn-outline-primary btn-sm", for: id }, `${days} days`));
    }
    return group;
  }

  destroyCharts() {
    for (const chart of this.charts.splice(0)) chart.destroy();
  }

  async load() {
    this.destroyCharts();
    replaceChildren(this.grid, h("div", { class: "col-12" }, loadingState("Loading statistics…")));
    let stats;
    try {
      stats = await this.api.get("/api/v1/admin/stats", { query: { days: this.days }, signal: this.view.signal });
    } catch (error) {
      if (error.name !== "AbortError") replaceChildren(this.grid, h("div", { class: "col-12" }, errorState(error, () => this.load())));
      return;
    }
    const cards = this.cards(stats);
    replaceChildren(this.grid, cards.map((card) => card.element));
    try {
      for (const card of cards) if (card.draw) this.charts.push(await card.draw());
    } catch (error) {
      replaceChildren(this.grid, h("div", { class: "col-12" }, errorState(error, () => this.load())));
    }
  }

  cards(stats) {
    const days = daysFrom(stats.since, stats.days);
    const labels = days.map((day) => DAY_LABEL.format(new Date(`${day}T00:00:00Z`)));
    const created = series(days, stats.agents_created);
    const deleted = series(days, stats.agents_deleted);
    const searches = series(days, stats.searches);
    const period = `in the last ${stats.days} days`;
    const timeAxes = { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } }, y: { beginAtZero: true, ticks: { precision: 0 } } };

    const changes = chartCard({ key: "agents-per-day", title: "Agents created and deleted per day", summary: `${formatCount(sum(created))} created, ${formatCount(sum(deleted))} deleted ${period}`, wide: true });
    changes.draw = () =>
      createChart(changes.canvas, {
        type: "bar",
        data: {
          labels,
          datasets: [
            { label: "Created", data: created, backgroundColor: themeColor("--bs-success"), borderColor: themeColor("--bs-success"), maxBarThickness: 24 },
            { label: "Deleted", data: deleted, backgroundColor: themeColor("--bs-danger"), borderColor: themeColor("--bs-danger"), maxBarThickness: 24 },
          ],
        },
        options: { scales: timeAxes },
      });

    const searchCard = chartCard({ key: "searches-per-day", title: "Searches per day", summary: `${formatCount(sum(searches))} searches ${period}`, wide: true });
    searchCard.draw = () =>
      createChart(searchCard.canvas, {
        type: "line",
        data: { labels, datasets: [{ label: "Searches", data: searches, tension: 0.25, pointRadius: stats.days > 30 ? 0 : 2 }] },
        options: { scales: timeAxes, plugins: { legend: { display: false } } },
      });

    return [
      changes,
      searchCard,
      this.rankCard(
        "top-capabilities",
        "Top capabilities",
        stats.top_capabilities.map((item) => [item.capability, item.agents]),
        "bar",
        "No agent lists a capability yet.",
      ),
      this.rankCard("agents-by-type", "Agents by type", Object.entries(stats.agents_by_type), "doughnut", "No agents are listed yet."),
      this.rankCard("agents-by-status", "Agents by status", Object.entries(stats.agents_by_status), "doughnut", "No agents are listed yet."),
    ];
  }

  /** A chart of named counts, largest first; an empty state when there are none. */
  rankCard(key, title, pairs, type, emptyText) {
    const sorted = pairs.filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
    const summary = sorted.length ? sorted.slice(0, 3).map(([name, count]) => `${name} ${formatCount(count)}`).join(", ") + (sorted.length > 3 ? ", …" : "") : "Nothing to count yet";
    const card = chartCard({ key, title, summary });
    if (!sorted.length) {
      replaceChildren(card.body, emptyState({ iconName: "bar-chart", title: emptyText }));
      card.body.classList.remove("admin-chart");
      return card;
    }
    const labels = sorted.map(([name]) => name);
    const data = sorted.map(([, count]) => count);
    card.draw = () => {
      if (type === "doughnut") {
        return createChart(card.canvas, {
          type: "doughnut",
          data: { labels, datasets: [{ label: title, data, backgroundColor: sliceColors(data.length), borderColor: themeColor("--bs-body-bg") }] },
          options: { plugins: { legend: { position: "bottom" } } },
        });
      }
      return createChart(card.canvas, {
        type: "bar",
        data: { labels, datasets: [{ label: "Agents", data, maxBarThickness: 28 }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    };
    return card;
  }
}

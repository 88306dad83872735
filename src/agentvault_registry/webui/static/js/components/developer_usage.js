// The developer portal's usage analytics: my API requests and searches per day over the last
// 30 days (GET /api/v1/me/activity's usage) and the changes to my agents per day (its activity
// entries), as charts.

import { chartColors, createChart } from "../core/charts.js";
import { emptyState, errorState, formatCount, h, icon, loadingState, replaceChildren } from "../core/dom.js";

const ACTIVITY = "/api/v1/me/activity";
const DAYS = 30;
const PAGE_LIMIT = 100;
/** Pages of agent changes read at most (10,000 changes a month is beyond any chart's use). */
const MAX_PAGES = 100;
const DAY_LABEL = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const CHANGES = [
  { action: "agent.created", label: "Registered", color: "success" },
  { action: "agent.updated", label: "Updated", color: "primary" },
  { action: "agent.deleted", label: "Deleted", color: "danger" },
];

/** The last 30 days as the registry counts them (UTC dates), oldest first. */
function lastDays(now = new Date()) {
  return Array.from({ length: DAYS }, (_, index) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (DAYS - 1 - index))).toISOString().slice(0, 10));
}

function perDay(days, counts) {
  const byDay = new Map(counts.map((item) => [item.day, item.count]));
  return days.map((day) => byDay.get(day) || 0);
}

async function agentChanges(view, since) {
  const entries = [];
  let cursor = null;
  let usage = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await view.api.get(ACTIVITY, { query: { action: "agent.", since, limit: PAGE_LIMIT, cursor }, signal: view.signal });
    usage = usage || answer.usage;
    entries.push(...answer.activity);
    cursor = answer.pagination.next_cursor;
    if (!cursor) break;
  }
  return { usage, entries };
}

function sum(values) {
  return values.reduce((total, value) => total + value, 0);
}

function busiest(days, values) {
  const top = values.indexOf(Math.max(...values));
  return `${DAY_LABEL.format(new Date(days[top]))} (${formatCount(values[top])})`;
}

function statCard(label, value, iconName, stat) {
  return h(
    "div",
    { class: "col-sm-4" },
    h(
      "div",
      { class: "card h-100" },
      h(
        "div",
        { class: "card-body" },
        h("div", { class: "text-body-secondary small" }, icon(iconName), " ", label, " · 30 days"),
        h("div", { class: "stat-value", dataset: { stat } }, formatCount(value)),
      ),
    ),
  );
}

/** A card with a bar chart, or a note when its series is all zeros. */
function chartCard(view, { title, id, days, datasets, stacked = false, emptyText }) {
  const total = sum(datasets.flatMap((dataset) => dataset.data));
  const headingId = `usage-${id}-heading`;
  let content;
  if (!total) {
    content = h("p", { class: "text-body-secondary mb-0 py-4 text-center", dataset: { chartEmpty: id } }, emptyText);
  } else {
    const summary = datasets.map((dataset) => `${dataset.label}: ${formatCount(sum(dataset.data))}`).join(", ");
    const canvas = h("canvas", {
      role: "img",
      "aria-label": `${title} over the last ${DAYS} days. ${summary}; busiest day ${busiest(
        days,
        days.map((_, index) => sum(datasets.map((dataset) => dataset.data[index]))),
      )}.`,
      dataset: { chart: id },
    });
    content = h("div", { class: "chart-box" }, canvas);
    createChart(canvas, {
      type: "bar",
      data: { labels: days.map((day) => DAY_LABEL.format(new Date(day))), datasets },
      options: {
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          x: { stacked, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    })
      .then((chart) => view.onDestroy(() => chart.destroy()))
      .catch((error) => replaceChildren(content, errorState(error)));
  }
  return h("section", { class: "card h-100", "aria-labelledby": headingId }, h("div", { class: "card-body" }, h("h3", { class: "h6", id: headingId }, title), content));
}

/** The Usage tab. view: the scope of the section. */
export function usageSection(view) {
  const body = h("div", {}, loadingState("Loading your usage…"));

  async function load() {
    const days = lastDays();
    try {
      const { usage, entries } = await agentChanges(view, `${days[0]}T00:00:00Z`);
      draw(days, usage, entries);
    } catch (error) {
      if (error.name !== "AbortError") replaceChildren(body, errorState(error, load));
    }
  }

  function draw(days, usage, entries) {
    const requests = perDay(days, usage.api_requests);
    const searches = perDay(days, usage.searches || []);
    const changes = CHANGES.map(({ action }) => {
      const counts = new Map();
      for (const entry of entries) {
        if (entry.action !== action) continue;
        const day = entry.occurred_at.slice(0, 10);
        counts.set(day, (counts.get(day) || 0) + 1);
      }
      return days.map((day) => counts.get(day) || 0);
    });
    const totals = { requests: sum(requests), searches: sum(searches), changes: sum(changes.flat()) };
    if (!totals.requests && !totals.searches && !totals.changes) {
      replaceChildren(
        body,
        emptyState({
          iconName: "graph-up",
          title: "No usage in the last 30 days",
          text: "Your API requests (signed in, with your keys or by your agents), your searches and the changes to your agents will show here as they happen.",
          action: h("a", { class: "btn btn-primary", href: "/ui/developer/agents/new" }, icon("plus-lg"), " Register an agent"),
        }),
      );
      return;
    }
    const colors = chartColors();
    const palette = { primary: colors.series[0], success: colors.series[1], danger: colors.series[3] };
    replaceChildren(
      body,
      h(
        "div",
        { class: "row g-3 mb-3" },
        statCard("API requests", totals.requests, "arrow-left-right", "requests"),
        statCard("Searches", totals.searches, "search", "searches"),
        statCard("Agent changes", totals.changes, "robot", "changes"),
      ),
      h(
        "div",
        { class: "row g-3" },
        h(
          "div",
          { class: "col-lg-6" },
          chartCard(view, { title: "API requests per day", id: "requests", days, datasets: [{ label: "API requests", data: requests }], emptyText: "No API requests in the last 30 days." }),
        ),
        h(
          "div",
          { class: "col-lg-6" },
          chartCard(view, { title: "Searches per day", id: "searches", days, datasets: [{ label: "Searches", data: searches }], emptyText: "You made no searches in the last 30 days." }),
        ),
        h(
          "div",
          { class: "col-12" },
          chartCard(view, {
            title: "Changes to your agents per day",
            id: "changes",
            days,
            stacked: true,
            datasets: CHANGES.map((kind, index) => ({ label: kind.label, data: changes[index], backgroundColor: palette[kind.color], borderColor: palette[kind.color] })),
            emptyText: "None of your agents changed in the last 30 days.",
          }),
        ),
      ),
      h("p", { class: "small text-body-secondary mt-3 mb-0" }, "Counts reach these charts within a few seconds. Days are UTC days."),
    );
  }

  load();
  return h(
    "section",
    { "aria-labelledby": "usage-heading" },
    h("h2", { class: "h4", id: "usage-heading" }, "Usage"),
    h("p", { class: "text-body-secondary" }, "How much you used the registry over the last 30 days."),
    body,
  );
}

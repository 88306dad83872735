// Mission Control's live feed: the stream's events as sentences, newest first and at most
// FEED_LIMIT of them, filtered by kind, and paused on request (what arrives meanwhile is held
// and shown on resume), so a busy registry can still be read.

import { emptyState, h, icon, replaceChildren } from "../core/dom.js";
import { activityIcon, describeActivity, timeAgo } from "./dashboard_activity.js";

const FEED_LIMIT = 60;

const FEED_FILTERS = {
  all: { label: "All events I may see", matches: () => true },
  agents: { label: "Agent changes", matches: (entry) => entry.action.startsWith("agent.") },
  registrations: { label: "Registrations only", matches: (entry) => entry.action === "agent.created" },
};

export class MissionFeed {
  constructor(session) {
    this.session = session;
    this.paused = false;
    this.held = [];
    this.filter = "all";
    this.pauseButton = h("button", { type: "button", class: "btn btn-sm btn-outline-secondary text-nowrap", "aria-pressed": "false", onclick: () => this.togglePause() });
    this.heldNotice = h("div", { class: "small text-body-secondary", "aria-live": "polite" });
    this.filterSelect = h(
      "select",
      { class: "form-select form-select-sm", id: "mc-feed-filter", onchange: (event) => this.setFilter(event.target.value) },
      Object.entries(FEED_FILTERS).map(([value, filter]) => h("option", { value }, filter.label)),
    );
    this.feedList = h("ol", { class: "list-unstyled mb-0 live-feed", "aria-label": "Live events, newest first", "data-feed": "" });
    this.feedEmpty = emptyState({
      iconName: "broadcast",
      title: "Waiting for the next event",
      text: "Register an agent, or let one register itself with a bootstrap token: it appears here the moment the registry records it.",
    });
    // Focusable, so keyboard users can scroll a long feed.
    this.feedBody = h("div", { class: "live-feed-scroll", tabindex: "0", role: "region", "aria-label": "Live feed events" }, this.feedEmpty, this.feedList);
    this.updatePauseButton();
  }

  render() {
    return h(
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
            this.filterSelect,
            this.pauseButton,
          ),
        ),
        h("div", { class: "card-body" }, this.heldNotice, this.feedBody),
      ),
    );
  }

  /** A new event: shown at the top, or held while the feed is paused. */
  add(entry) {
    if (this.paused) {
      this.held.push(entry);
      this.updateHeldNotice();
      return;
    }
    this.prepend(entry, true);
  }

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
}

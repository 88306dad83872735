// The Galactic Map: every agent a star, agents sharing a capability a constellation, each
// registry a galaxy (peers' too, with the federation toggle). Zoom and pan with the wheel,
// a drag, the buttons or the keyboard; a star opens the agent detail modal. The same agents
// are listed as text below the map for screen reader users.

import { emptyState, errorState, formatCount, h, icon, replaceChildren, spinner, svg } from "../core/dom.js";
import { View } from "../core/view.js";
import { openAgentDetail } from "../components/agent_detail.js";
import { layoutUniverse, skyStars, UNCHARTED } from "../components/galactic_layout.js";
import { federationStatus } from "../components/federation_status.js";

const SEARCH = "/api/v1/discovery/agents";
const PER_PAGE = 100;
/** Local agents charted at most; Discover lists the rest. */
const MAX_AGENTS = 300;
const ZOOM_STEP = 1.4;
const MIN_ZOOM = 0.5;
const MAX_ZOOM = 12;
/** Share of the map's width an arrow key pans. */
const PAN_STEP = 0.1;
/** Pixels a pointer must move before a press becomes a drag (and not a click on a star). */
const DRAG_THRESHOLD = 4;
/** The closest the whole-map view gets: a handful of agents is not blown up to giant stars. */
const MAX_PIXELS_PER_UNIT = 1.6;

const HOME_COLOUR = "#7c5cff";
/** Peers' galaxies: hues that do not read as a health colour (amber, red). */
const PEER_COLOURS = ["#22b8cf", "#51cf66", "#4dabf7", "#cc5de8", "#20c997", "#748ffc"];
const HEALTH = {
  healthy: { label: "Healthy", core: "#fff3bf", halo: "#ffd43b" },
  degraded: { label: "Degraded", core: "#ffc078", halo: "#ff922b" },
  unhealthy: { label: "Unhealthy", core: "#ff6b6b", halo: "#e03131" },
  unknown: { label: "Not probed yet", core: "#d0ebff", halo: "#74c0fc" },
};
const SIGNATURES = {
  valid: "signed card",
  invalid: "bad card signature",
  untrusted: "untrusted card signature",
};

let mapCounter = 0;

function healthOf(agent) {
  return HEALTH[agent.health?.status] ? agent.health.status : "unknown";
}

function colourOf(galaxy, index) {
  return galaxy.local ? HOME_COLOUR : PEER_COLOURS[index % PEER_COLOURS.length];
}

function shortened(text, length = 22) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function plural(count, noun, nouns = `${noun}s`) {
  return `${formatCount(count)} ${count === 1 ? noun : nouns}`;
}

function starLabel(star) {
  const signature = SIGNATURES[star.agent.signature?.status];
  const where = star.registry.local ? "this registry" : star.registry.name;
  const capability = star.capability === UNCHARTED ? "no capability listed" : star.capability;
  return `${star.agent.name}: ${capability}, ${where}, ${HEALTH[healthOf(star.agent)].label.toLowerCase()}${signature ? `, ${signature}` : ""}`;
}

export default class GalacticMapView extends View {
  async render(container) {
    this.prefix = `galactic-${++mapCounter}`;
    this.federated = this.query.get("include_federated") === "true";
    this.homeName = this.context.config.registry_name;
    this.generation = 0;
    this.summary = h("p", { class: "mb-0 text-body-secondary", "data-map-summary": "", "aria-live": "polite" }, "Charting the agents…");
    this.federation = h("div", { "data-federation-status": "" });
    this.content = h("div", { class: "map-content" });
    this.tooltip = h("div", { class: "map-tooltip", "aria-hidden": "true", hidden: true });
    this.controls = this.zoomControls();
    this.legendStrip = this.legend();
    this.stage = h("div", { class: "map-stage", "aria-busy": "true" }, this.sky(), this.content, this.controls, this.tooltip);
    this.list = h("div", { class: "map-list", "data-map-list": "" });
    this.listDetails = h(
      "details",
      { class: "map-list-details mt-3", hidden: true },
      h("summary", { class: "fw-semibold" }, icon("list-ul"), " Clusters: the map as a list"),
      this.list,
    );
    const federationSwitch = h("input", {
      class: "form-check-input",
      type: "checkbox",
      role: "switch",
      id: "map-federated",
      checked: this.federated,
      onchange: (event) => this.setFederated(event.target.checked),
    });
    container.append(
      h(
        "div",
        { class: "d-flex flex-wrap justify-content-between align-items-end gap-3 mb-3" },
        h("div", { class: "min-w-0" }, h("h1", { class: "mb-1" }, "Galactic Map"), this.summary),
        h(
          "div",
          { class: "d-flex flex-wrap align-items-center gap-3" },
          h("div", { class: "form-check form-switch mb-0" }, federationSwitch, h("label", { class: "form-check-label", for: "map-federated" }, icon("globe2"), " Include federated registries")),
          h("a", { class: "btn btn-outline-primary btn-sm", href: this.federated ? "/ui/discovery?include_federated=true" : "/ui/discovery" }, icon("grid-3x3-gap"), " Agent grid"),
        ),
      ),
      this.federation,
      h("div", { class: "map-panel", "data-bs-theme": "dark" }, this.stage, this.legendStrip),
      this.listDetails,
    );
  }

  afterRender() {
    const observer = new ResizeObserver(() => this.applyTransform());
    observer.observe(this.stage);
    this.onDestroy(() => observer.disconnect());
    this.load();
  }

  setFederated(on) {
    this.federated = on;
    window.history.replaceState(window.history.state, "", on ? "/ui/discovery/map?include_federated=true" : "/ui/discovery/map");
    this.load();
  }

  // ------------------------------------------------------------------ data

  /** Every agent up to MAX_AGENTS local ones, page by page, with progress on the way. */
  async load() {
    const generation = ++this.generation;
    this.showOverlay(this.progress(0, null));
    replaceChildren(this.federation);
    this.summary.textContent = "Charting the agents…";
    const agents = [];
    let federation = null;
    let pagination = null;
    let local = 0;
    let remote = 0;
    let cursor = null;
    try {
      do {
        const query = { per_page: PER_PAGE, sort: "name", include_federated: this.federated ? "true" : null, cursor };
        const answer = await this.api.get(SEARCH, { query, signal: this.signal });
        if (generation !== this.generation) return;
        agents.push(...answer.agents);
        // Peers answer the first page only; later pages are this registry's.
        federation = federation || answer.federation_status;
        pagination = answer.pagination;
        remote += answer.agents.filter((agent) => agent.is_federated).length;
        local = agents.length - remote;
        cursor = pagination.next_cursor;
        this.showOverlay(this.progress(agents.length, Math.min(pagination.total, MAX_AGENTS) + remote));
      } while (cursor && local < MAX_AGENTS);
    } catch (error) {
      if (error.name === "AbortError" || generation !== this.generation) return;
      this.agents = null;
      this.summary.textContent = "The map could not be charted.";
      this.listDetails.hidden = true;
      this.showOverlay(errorState(error, () => this.load()));
      return;
    }
    this.agents = agents;
    this.drawFederation(federation);
    this.draw({ local, remote, pagination, truncated: Boolean(cursor) });
  }

  progress(done, expected) {
    const label = expected ? `Charting ${formatCount(done)} of ${formatCount(expected)} agents…` : "Charting the agents…";
    const share = expected ? Math.min(100, Math.round((done / expected) * 100)) : 0;
    return h(
      "div",
      { class: "map-progress", "data-state": "loading" },
      spinner(label),
      h(
        "div",
        { class: "progress mt-3", role: "progressbar", "aria-label": "Agents charted", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(share) },
        h("div", { class: "progress-bar", style: { width: `${share}%` } }),
      ),
    );
  }

  /** A state (loading, empty, error) over the empty sky, in place of the map. */
  showOverlay(node) {
    this.map = null;
    this.controls.hidden = true;
    this.legendStrip.hidden = true;
    this.hideTooltip();
    this.stage.setAttribute("aria-busy", node.dataset.state === "loading" ? "true" : "false");
    replaceChildren(this.content, h("div", { class: "map-overlay" }, node));
  }

  // ------------------------------------------------------------------ drawing

  draw({ local, remote, pagination, truncated }) {
    if (!this.agents.length) {
      this.summary.textContent = this.federated ? "No agents here or at the peer registries yet." : "No agents yet.";
      this.listDetails.hidden = true;
      this.showOverlay(
        emptyState({
          iconName: "stars",
          title: "The sky is still empty",
          text: "Register an agent and it appears here as a star, grouped with the agents that share its capability.",
          action: h("a", { class: "btn btn-primary", href: "/ui/developer/agents/new" }, icon("plus-lg"), " Register an agent"),
        }),
      );
      return;
    }
    this.universe = layoutUniverse(this.agents, this.homeName);
    const constellations = this.universe.galaxies.reduce((sum, galaxy) => sum + galaxy.constellations.length, 0);
    const registries = this.universe.galaxies.length;
    const shownTotal = pagination.total_exact === false ? `${formatCount(pagination.total)}+` : formatCount(pagination.total);
    this.summary.textContent = [
      `${plural(this.agents.length, "agent")} in ${plural(constellations, "constellation")} across ${plural(registries, "registry", "registries")}.`,
      truncated ? ` Showing the first ${formatCount(local)} of ${shownTotal} local agents, by name; the agent grid lists them all.` : "",
      remote ? ` ${plural(remote, "agent")} from peer registries.` : "",
    ].join("");
    this.drawMap();
    this.drawList();
  }

  drawMap() {
    const { galaxies } = this.universe;
    this.zoom = { k: 1, tx: 0, ty: 0 };
    this.viewport = svg("g", { "data-map-viewport": "" }, galaxies.map((galaxy, index) => this.galaxy(galaxy, index)));
    const helpId = `${this.prefix}-help`;
    this.map = svg(
      "svg",
      {
        class: "map-svg",
        preserveAspectRatio: "xMidYMid meet",
        tabindex: "0",
        role: "group",
        "aria-label": `Galactic map: ${plural(this.agents.length, "agent")}`,
        "aria-describedby": helpId,
        "data-galactic-map": "",
      },
      this.definitions(galaxies),
      this.viewport,
    );
    const help = h("p", { class: "visually-hidden", id: helpId }, "Arrow keys pan, plus and minus zoom, 0 resets the view. Tab moves from star to star; Enter or Space opens an agent. The clusters list after the map holds the same agents as text.");
    this.listen(this.map, "wheel", (event) => this.onWheel(event), { passive: false });
    this.listen(this.map, "pointerdown", (event) => this.onPointerDown(event));
    this.listen(this.map, "pointermove", (event) => this.onPointerMove(event));
    this.listen(this.map, "pointerup", (event) => this.onPointerUp(event));
    this.listen(this.map, "pointercancel", (event) => this.onPointerUp(event));
    this.listen(this.map, "keydown", (event) => this.onKeyDown(event));
    replaceChildren(this.content, this.map, help);
    this.controls.hidden = false;
    this.legendStrip.hidden = false;
    this.stage.setAttribute("aria-busy", "false");
    this.applyTransform();
  }

  definitions(galaxies) {
    const gradient = (id, colour, stops) =>
      svg(
        "radialGradient",
        { id },
        stops.map(([offset, opacity]) => svg("stop", { offset, "stop-color": colour, "stop-opacity": String(opacity) })),
      );
    return svg(
      "defs",
      {},
      galaxies.map((galaxy, index) =>
        gradient(`${this.prefix}-galaxy-${index}`, colourOf(galaxy, index), [
          ["0%", 0.5],
          ["35%", 0.22],
          ["70%", 0.08],
          ["100%", 0],
        ]),
      ),
      Object.entries(HEALTH).map(([status, style]) =>
        gradient(`${this.prefix}-halo-${status}`, style.halo, [
          ["0%", status === "unhealthy" ? 0.35 : 0.7],
          ["100%", 0],
        ]),
      ),
    );
  }

  galaxy(galaxy, index) {
    const labelY = galaxy.y - galaxy.r - 8;
    return svg(
      "g",
      { class: "galaxy", "data-galaxy": galaxy.name, "data-galaxy-home": galaxy.local ? "true" : "false" },
      svg("circle", { class: "galaxy-disk", cx: galaxy.x, cy: galaxy.y, r: galaxy.r, fill: `url(#${this.prefix}-galaxy-${index})` }),
      svg("circle", { class: "galaxy-rim", cx: galaxy.x, cy: galaxy.y, r: galaxy.r, stroke: colourOf(galaxy, index) }),
      svg(
        "text",
        { class: "map-label galaxy-label", x: galaxy.x, y: labelY, "text-anchor": "middle", "data-galaxy-label": "" },
        svg("tspan", { class: "galaxy-name" }, shortened(galaxy.name, 36)),
        svg("tspan", { class: "galaxy-count" }, `  ${plural(galaxy.count, "agent")}`),
      ),
      galaxy.constellations.map((constellation) => this.constellation(constellation)),
    );
  }

  constellation(constellation) {
    const uncharted = constellation.capability === UNCHARTED;
    return svg(
      "g",
      { class: `constellation${uncharted ? " is-uncharted" : ""}`, "data-constellation": constellation.capability },
      svg("circle", { class: "constellation-area", cx: constellation.x, cy: constellation.y, r: constellation.r }),
      constellation.lines.map(([from, to]) => svg("line", { class: "constellation-line", x1: from.x, y1: from.y, x2: to.x, y2: to.y })),
      constellation.stars.map((star) => this.star(star)),
      svg(
        "text",
        { class: "map-label constellation-label", x: constellation.x, y: constellation.y + constellation.r + 4, "text-anchor": "middle", "dominant-baseline": "hanging", "data-constellation-label": "" },
        `${shortened(constellation.capability)} · ${constellation.stars.length}`,
      ),
    );
  }

  star(star) {
    const health = healthOf(star.agent);
    const signature = star.agent.signature?.status;
    const element = svg(
      "g",
      {
        class: `star star-${health}`,
        transform: `translate(${star.x.toFixed(2)} ${star.y.toFixed(2)})`,
        tabindex: "0",
        role: "button",
        "aria-label": starLabel(star),
        "data-star": "",
        "data-agent-id": star.agent.id,
      },
      svg("circle", { class: "star-halo", r: (star.r * 3.2).toFixed(2), fill: `url(#${this.prefix}-halo-${health})` }),
      SIGNATURES[signature] ? svg("circle", { class: `star-ring star-ring-${signature}`, r: (star.r + 2.6).toFixed(2) }) : null,
      svg("circle", { class: "star-core", r: star.r.toFixed(2), fill: HEALTH[health].core }),
      svg("circle", { class: "star-focus", r: (star.r + 5).toFixed(2) }),
    );
    element.addEventListener("click", () => this.open(star, element));
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        event.stopPropagation();
        this.open(star, element);
      }
    });
    element.addEventListener("pointerenter", () => this.showTooltip(star, element));
    element.addEventListener("pointerleave", () => this.hideTooltip());
    element.addEventListener("focus", () => {
      this.bringIntoView(star);
      this.showTooltip(star, element);
    });
    element.addEventListener("blur", () => this.hideTooltip());
    return element;
  }

  /** The map as text: registry → capability → agents, each a button opening the same modal. */
  drawList() {
    replaceChildren(
      this.list,
      h(
        "ul",
        { class: "list-unstyled mb-0 mt-2" },
        this.universe.galaxies.map((galaxy) =>
          h(
            "li",
            { class: "mb-3", "data-list-galaxy": galaxy.name },
            h("h2", { class: "h6 mb-1" }, icon(galaxy.local ? "house" : "globe2"), " ", galaxy.local ? `${galaxy.name} (this registry)` : galaxy.name, h("span", { class: "text-body-secondary fw-normal" }, ` · ${plural(galaxy.count, "agent")}`)),
            h(
              "ul",
              { class: "map-list-constellations" },
              galaxy.constellations.map((constellation) =>
                h(
                  "li",
                  { class: "mb-1" },
                  h("span", { class: "fw-semibold" }, constellation.capability), ` (${constellation.stars.length}): `,
                  h(
                    "ul",
                    { class: "list-inline d-inline mb-0" },
                    constellation.stars.map((star) =>
                      h(
                        "li",
                        { class: "list-inline-item" },
                        h("button", { type: "button", class: "btn btn-link btn-sm p-0 align-baseline", "data-list-agent": star.agent.id, onclick: (event) => this.open(star, event.currentTarget) }, star.agent.name),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
    this.listDetails.hidden = false;
  }

  drawFederation(status) {
    replaceChildren(this.federation, federationStatus(status));
  }


  sky() {
    return svg(
      "svg",
      { class: "map-sky", viewBox: "0 0 1000 700", preserveAspectRatio: "xMidYMid slice", "aria-hidden": "true", focusable: "false" },
      skyStars(170, 1000, 700).map((star) => svg("circle", { cx: star.x.toFixed(1), cy: star.y.toFixed(1), r: star.r.toFixed(2), fill: "#ffffff", "fill-opacity": star.opacity.toFixed(2) })),
    );
  }

  zoomControls() {
    const button = (label, iconName, action, name) => h("button", { type: "button", class: "btn btn-dark border-secondary", "aria-label": label, title: label, "data-map-zoom": name, onclick: action }, icon(iconName));
    return h(
      "div",
      { class: "map-controls btn-group-vertical", role: "group", "aria-label": "Map view", hidden: true },
      button("Zoom in", "plus-lg", () => this.zoomBy(ZOOM_STEP), "in"),
      button("Zoom out", "dash-lg", () => this.zoomBy(1 / ZOOM_STEP), "out"),
      button("Reset view", "arrows-fullscreen", () => this.resetView(), "reset"),
    );
  }

  legend() {
    const item = (graphic, text) => h("li", { class: "map-legend-item" }, svg("svg", { viewBox: "-10 -10 20 20", width: "20", height: "20", "aria-hidden": "true", focusable: "false" }, graphic), text);
    const dot = (status, r = 4) => svg("circle", { r, fill: HEALTH[status].core, class: `legend-star star-${status}` });
    return h(
      "div",
      { class: "map-legend", hidden: true },
      h("h2", { class: "visually-hidden" }, "Legend"),
      h(
        "ul",
        { class: "list-unstyled d-flex flex-wrap row-gap-2 column-gap-3 mb-0 small" },
        Object.keys(HEALTH).map((status) => item(dot(status), HEALTH[status].label)),
        item([dot("healthy", 3), svg("circle", { r: 6, class: "star-ring star-ring-valid" })], "Signed card"),
        item([svg("circle", { r: 2.5, fill: "#d0ebff", cx: -5 }), svg("circle", { r: 5, fill: "#d0ebff", cx: 4 })], "Bigger: more skills"),
        item(
          [svg("line", { class: "constellation-line", x1: -7, y1: 5, x2: 0, y2: -4 }), svg("line", { class: "constellation-line", x1: 0, y1: -4, x2: 7, y2: 3 }), dot("unknown", 2), svg("circle", { r: 2, cx: -7, cy: 5, fill: "#d0ebff" }), svg("circle", { r: 2, cx: 7, cy: 3, fill: "#d0ebff" })],
          "Constellation: a shared capability",
        ),
        item(svg("circle", { r: 9, fill: `${HOME_COLOUR}66` }), "Galaxy: a registry"),
      ),
    );
  }

  // ------------------------------------------------------------------ zoom and pan

  /**
   * Frame the whole map in the stage at its current size: the view box has the stage's
   * proportions, so `fit` CSS pixels show one map unit everywhere.
   */
  frame() {
    const { bounds } = this.universe;
    const box = this.stage.getBoundingClientRect();
    const width = box.width || bounds.width;
    const height = box.height || bounds.height;
    this.fit = Math.min(MAX_PIXELS_PER_UNIT, width / bounds.width, height / bounds.height);
    const centre = { x: bounds.x + bounds.width / 2, y: bounds.y + bounds.height / 2 };
    this.viewBox = { x: centre.x - width / this.fit / 2, y: centre.y - height / this.fit / 2, width: width / this.fit, height: height / this.fit };
    this.map.setAttribute("viewBox", [this.viewBox.x, this.viewBox.y, this.viewBox.width, this.viewBox.height].map((value) => value.toFixed(2)).join(" "));
  }

  applyTransform() {
    if (!this.map || !this.viewport) return;
    this.frame();
    const { k, tx, ty } = this.zoom;
    this.viewport.setAttribute("transform", `translate(${tx.toFixed(2)} ${ty.toFixed(2)}) scale(${k.toFixed(4)})`);
    // Labels keep one size on screen at any zoom: a map unit is this many CSS pixels.
    this.map.style.setProperty("--map-unit", String(1 / (this.fit * k)));
    this.hideTooltip();
  }

  /** A point of the page in the map's own (viewBox) coordinates. */
  mapPoint(clientX, clientY) {
    const matrix = this.map.getScreenCTM().inverse();
    return new DOMPoint(clientX, clientY).matrixTransform(matrix);
  }

  centre() {
    const { viewBox } = this;
    return { x: viewBox.x + viewBox.width / 2, y: viewBox.y + viewBox.height / 2 };
  }

  zoomBy(factor, at = this.centre()) {
    const { k, tx, ty } = this.zoom;
    const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k * factor));
    // The point under the pointer (or the centre) stays where it is.
    this.zoom = { k: next, tx: at.x - ((at.x - tx) * next) / k, ty: at.y - ((at.y - ty) * next) / k };
    this.applyTransform();
  }

  panBy(dx, dy) {
    this.zoom = { ...this.zoom, tx: this.zoom.tx + dx, ty: this.zoom.ty + dy };
    this.applyTransform();
  }

  resetView() {
    this.zoom = { k: 1, tx: 0, ty: 0 };
    this.applyTransform();
  }

  /** Keyboard focus on a star out of sight centres the map on it. */
  bringIntoView(star) {
    const stage = this.map.getBoundingClientRect();
    const { k, tx, ty } = this.zoom;
    const { viewBox } = this;
    const x = tx + k * star.x;
    const y = ty + k * star.y;
    const margin = 0.06;
    const inside = x > viewBox.x + viewBox.width * margin && x < viewBox.x + viewBox.width * (1 - margin) && y > viewBox.y + viewBox.height * margin && y < viewBox.y + viewBox.height * (1 - margin);
    if (inside && stage.width) return;
    const centre = this.centre();
    this.zoom = { k, tx: centre.x - k * star.x, ty: centre.y - k * star.y };
    this.applyTransform();
  }

  onWheel(event) {
    event.preventDefault();
    this.zoomBy(Math.exp(-event.deltaY * 0.0015), this.mapPoint(event.clientX, event.clientY));
  }

  onPointerDown(event) {
    if (event.button !== 0) return;
    this.drag = { id: event.pointerId, x: event.clientX, y: event.clientY, tx: this.zoom.tx, ty: this.zoom.ty, moved: false };
  }

  onPointerMove(event) {
    const drag = this.drag;
    if (!drag || drag.id !== event.pointerId) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved) {
      if (Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      // Captured only once it is a drag: a plain click must still reach the star under it.
      drag.moved = true;
      this.map.setPointerCapture(event.pointerId);
      this.map.classList.add("is-dragging");
    }
    const scale = this.map.getScreenCTM().a || 1;
    this.zoom = { ...this.zoom, tx: drag.tx + dx / scale, ty: drag.ty + dy / scale };
    this.applyTransform();
  }

  onPointerUp(event) {
    if (!this.drag || this.drag.id !== event.pointerId) return;
    if (this.drag.moved) {
      this.map.classList.remove("is-dragging");
      if (this.map.hasPointerCapture(event.pointerId)) this.map.releasePointerCapture(event.pointerId);
    }
    this.drag = null;
  }

  onKeyDown(event) {
    const step = this.viewBox.width * PAN_STEP;
    const actions = {
      ArrowLeft: () => this.panBy(step, 0),
      ArrowRight: () => this.panBy(-step, 0),
      ArrowUp: () => this.panBy(0, step),
      ArrowDown: () => this.panBy(0, -step),
      "+": () => this.zoomBy(ZOOM_STEP),
      "=": () => this.zoomBy(ZOOM_STEP),
      "-": () => this.zoomBy(1 / ZOOM_STEP),
      _: () => this.zoomBy(1 / ZOOM_STEP),
      0: () => this.resetView(),
    };
    const action = actions[event.key];
    if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    action();
  }

  // ------------------------------------------------------------------ tooltip and detail

  showTooltip(star, element) {
    if (this.drag?.moved) return;
    const capability = star.capability === UNCHARTED ? "No capability listed" : star.capability;
    replaceChildren(
      this.tooltip,
      h("div", { class: "fw-semibold" }, star.agent.name),
      h("div", {}, capability, " · ", star.registry.local ? "this registry" : star.registry.name),
      h("div", { class: "map-tooltip-meta" }, HEALTH[healthOf(star.agent)].label, SIGNATURES[star.agent.signature?.status] ? ` · ${SIGNATURES[star.agent.signature.status]}` : ""),
    );
    this.tooltip.hidden = false;
    const stage = this.stage.getBoundingClientRect();
    const core = element.querySelector(".star-core").getBoundingClientRect();
    const half = this.tooltip.offsetWidth / 2;
    const left = Math.min(Math.max(core.left + core.width / 2 - stage.left, half + 6), stage.width - half - 6);
    const above = core.top - stage.top > this.tooltip.offsetHeight + 12;
    this.tooltip.classList.toggle("is-below", !above);
    Object.assign(this.tooltip.style, { left: `${left}px`, top: `${above ? core.top - stage.top - 8 : core.bottom - stage.top + 8}px` });
  }

  hideTooltip() {
    if (this.tooltip) this.tooltip.hidden = true;
  }

  async open(star, returnTo) {
    if (this.opening) return;
    this.opening = true;
    this.hideTooltip();
    try {
      await openAgentDetail(this, star.agent);
    } finally {
      this.opening = false;
    }
    if (returnTo.isConnected) returnTo.focus({ preventScroll: true });
  }
}

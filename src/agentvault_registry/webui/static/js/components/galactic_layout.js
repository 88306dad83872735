// Where the Galactic Map puts things, computed from the data alone (no DOM, no Math.random):
// the same agents always give the same map. Each registry is a galaxy; inside it, agents
// sharing a primary capability form a constellation; inside a constellation, stars sit on a
// sunflower spiral in an order (and with a jitter) drawn from a hash of their id.

export const UNCHARTED = "uncharted";

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
/** Distance between neighbouring stars of a constellation, in map units. */
const STAR_SPACING = 17;
const STAR_JITTER = 2.5;
/** Room around a constellation for its label and its neighbours. */
const CONSTELLATION_GAP = 30;
const GALAXY_PADDING = 34;
const GALAXY_GAP = 70;
/** A galaxy of one or two agents still looks like a galaxy, with room for its name. */
const MIN_GALAXY_RADIUS = 110;
/** Space above a galaxy for its name. */
const GALAXY_LABEL_ROOM = 34;
const BOUNDS_MARGIN = 12;

/** FNV-1a: a stable 32-bit hash of a string. */
export function hashOf(text) {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** The registry an agent is listed by: this one, or the peer it was federated from. */
export function registryOf(agent, homeName) {
  if (!agent.is_federated) return { key: "home", name: homeName, local: true };
  let name = agent.origin_registry_name;
  if (!name) {
    try {
      name = new URL(agent.registry_url).host;
    } catch {
      name = String(agent.registry_url || "Unknown registry");
    }
  }
  return { key: `peer:${name}`, name, local: false };
}

function topicsOf(agent) {
  return [...new Set([...(agent.capabilities || []), ...(agent.tags || [])].map((topic) => String(topic).trim()).filter(Boolean))];
}

/**
 * Each agent's primary capability: of its capabilities and tags, the one most agents of
 * the same registry share (ties: alphabetical), so related agents gather in one place.
 */
export function primaryCapabilities(agents) {
  const counts = new Map();
  for (const agent of agents) for (const topic of topicsOf(agent)) counts.set(topic, (counts.get(topic) || 0) + 1);
  const primary = new Map();
  for (const agent of agents) {
    const topics = topicsOf(agent).sort((a, b) => counts.get(b) - counts.get(a) || a.localeCompare(b));
    primary.set(agent.id, topics[0] || UNCHARTED);
  }
  return primary;
}

/** How much an agent can do: the skills its card lists, or else its capabilities. */
export function skillCount(agent) {
  return Math.max(agent.a2a?.skills?.length || 0, agent.capabilities?.length || 0);
}

export function starRadius(agent) {
  return Math.min(7, 2.6 + 1.5 * Math.sqrt(skillCount(agent)));
}

/**
 * Place circles ({r, seed}) one by one, largest first as given: the first at the origin,
 * each next one at the nearest free spot, searched outwards in rings and, on each ring, from
 * the preferred angle alternately to either side.
 */
function pack(circles, gap, preferredAngle) {
  const placed = [];
  for (const circle of circles) {
    if (!placed.length) {
      placed.push({ ...circle, x: 0, y: 0 });
      continue;
    }
    const start = preferredAngle(circle);
    let spot = null;
    for (let distance = placed[0].r + circle.r + gap; !spot; distance += 8) {
      const steps = Math.max(12, Math.round((2 * Math.PI * distance) / 24));
      for (let step = 0; step < steps && !spot; step += 1) {
        const side = step % 2 ? -1 : 1;
        const angle = start + side * Math.ceil(step / 2) * ((2 * Math.PI) / steps);
        const x = Math.cos(angle) * distance;
        const y = Math.sin(angle) * distance;
        if (placed.every((other) => Math.hypot(other.x - x, other.y - y) >= other.r + circle.r + gap)) spot = { x, y };
      }
    }
    placed.push({ ...circle, ...spot });
  }
  return placed;
}

/** Stars of one constellation around (0, 0): a sunflower spiral in hashed order. */
function starsOf(agents, capability, registry) {
  const ordered = [...agents].sort((a, b) => hashOf(a.id) - hashOf(b.id) || String(a.id).localeCompare(String(b.id)));
  const turn = (hashOf(capability) % 360) * (Math.PI / 180);
  return ordered.map((agent, index) => {
    const random = seededRandom(hashOf(`${registry.key}/${agent.id}`));
    const distance = STAR_SPACING * Math.sqrt(index);
    const angle = turn + index * GOLDEN_ANGLE;
    const jitter = index ? STAR_JITTER : 0;
    return {
      agent,
      capability,
      registry,
      x: Math.cos(angle) * distance + (random() * 2 - 1) * jitter,
      y: Math.sin(angle) * distance + (random() * 2 - 1) * jitter,
      r: starRadius(agent),
    };
  });
}

/** Each star after the first joined to its nearest earlier star: a constellation's lines. */
function linesOf(stars) {
  const lines = [];
  for (let index = 1; index < stars.length; index += 1) {
    let nearest = stars[0];
    for (const other of stars.slice(0, index)) {
      if (Math.hypot(other.x - stars[index].x, other.y - stars[index].y) < Math.hypot(nearest.x - stars[index].x, nearest.y - stars[index].y)) nearest = other;
    }
    lines.push([nearest, stars[index]]);
  }
  return lines;
}

function galaxyOf(registry, agents) {
  const primary = primaryCapabilities(agents);
  const members = new Map();
  for (const agent of agents) {
    const capability = primary.get(agent.id);
    if (!members.has(capability)) members.set(capability, []);
    members.get(capability).push(agent);
  }
  const groups = [...members.entries()].sort(
    ([a, left], [b, right]) => (a === UNCHARTED) - (b === UNCHARTED) || right.length - left.length || a.localeCompare(b),
  );
  const circles = groups.map(([capability, group]) => ({
    capability,
    agents: group,
    r: STAR_SPACING * Math.sqrt(Math.max(group.length - 1, 0)) + 10,
  }));
  const placed = pack(circles, CONSTELLATION_GAP, (circle) => (hashOf(circle.capability) % 628) / 100);
  const constellations = placed.map((circle) => {
    const stars = starsOf(circle.agents, circle.capability, registry).map((star) => ({ ...star, x: star.x + circle.x, y: star.y + circle.y }));
    return { capability: circle.capability, x: circle.x, y: circle.y, r: circle.r, stars };
  });
  const reach = Math.max(...constellations.map((item) => Math.hypot(item.x, item.y) + item.r + CONSTELLATION_GAP / 2));
  return { ...registry, count: agents.length, r: Math.max(MIN_GALAXY_RADIUS, reach + GALAXY_PADDING), constellations };
}

/** The galaxy moved to (dx, dy), its constellations' lines drawn where the stars ended up. */
function shifted(galaxy, dx, dy) {
  const move = (item) => ({ ...item, x: item.x + dx, y: item.y + dy });
  return {
    ...galaxy,
    x: dx,
    y: dy,
    constellations: galaxy.constellations.map((constellation) => {
      const stars = constellation.stars.map(move);
      return { ...move(constellation), stars, lines: linesOf(stars) };
    }),
  };
}

/**
 * The whole map: {galaxies, stars, bounds: {x, y, width, height}}. The home registry comes
 * first (at the centre, peers to its right where there is room), peers follow by name.
 */
export function layoutUniverse(agents, homeName) {
  const byRegistry = new Map();
  for (const agent of agents) {
    const registry = registryOf(agent, homeName);
    if (!byRegistry.has(registry.key)) byRegistry.set(registry.key, { registry, agents: [] });
    byRegistry.get(registry.key).agents.push(agent);
  }
  const entries = [...byRegistry.values()].sort((a, b) => b.registry.local - a.registry.local || a.registry.name.localeCompare(b.registry.name));
  const unplaced = entries.map(({ registry, agents: members }) => galaxyOf(registry, members));
  const placed = pack(unplaced, GALAXY_GAP, () => 0).map((galaxy) => shifted(galaxy, galaxy.x, galaxy.y));
  const stars = placed.flatMap((galaxy) => galaxy.constellations.flatMap((constellation) => constellation.stars));
  return { galaxies: placed, stars, bounds: boundsOf(placed) };
}

/** The box around every galaxy and its name, in map units. */
function boundsOf(galaxies) {
  const left = Math.min(...galaxies.map((galaxy) => galaxy.x - galaxy.r)) - BOUNDS_MARGIN;
  const right = Math.max(...galaxies.map((galaxy) => galaxy.x + galaxy.r)) + BOUNDS_MARGIN;
  const top = Math.min(...galaxies.map((galaxy) => galaxy.y - galaxy.r - GALAXY_LABEL_ROOM)) - BOUNDS_MARGIN;
  const bottom = Math.max(...galaxies.map((galaxy) => galaxy.y + galaxy.r)) + BOUNDS_MARGIN;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Faint background stars for a sky of the given size, the same every time. */
export function skyStars(count, width, height, seed = 7) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({ x: random() * width, y: random() * height, r: 0.4 + random() * 1.1, opacity: 0.25 + random() * 0.55 }));
}

// The agent detail modal: an agent's A2A card (skills, interfaces, security schemes,
// capabilities) and where it comes from, with the card copied as JSON in one click. Local
// agents show the card this registry serves; a federated agent shows what its origin
// registry reported, with a link to the full card there (this page may only call its own
// registry).

import { copyText, errorState, formatDate, h, icon, loadingState, replaceChildren } from "../core/dom.js";

let modalCounter = 0;

function badge(text, kind = "secondary", iconName = null) {
  return h("span", { class: `badge text-bg-${kind}` }, iconName ? [icon(iconName), " "] : null, text);
}

const SIGNATURE_BADGES = {
  valid: ["Signed", "success", "patch-check"],
  invalid: ["Bad signature", "danger", "x-octagon"],
  untrusted: ["Untrusted signature", "warning", "shield-exclamation"],
  none: ["Unsigned", "secondary", "dash-circle"],
};
const HEALTH_BADGES = {
  healthy: ["Healthy", "success", "heart-pulse"],
  degraded: ["Degraded", "warning", "activity"],
  unhealthy: ["Unhealthy", "danger", "heartbreak"],
  unknown: ["Not probed yet", "secondary", "question-circle"],
};

/** Badges for an agent's status, verification, signature and health. */
export function agentBadges(agent) {
  const signature = SIGNATURE_BADGES[agent.signature?.status] || null;
  const health = HEALTH_BADGES[agent.health?.status] || null;
  return [
    badge(agent.status, agent.status === "active" ? "success" : "secondary"),
    agent.verified ? badge("Verified owner", "success", "patch-check-fill") : null,
    signature ? badge(...signature) : null,
    health ? badge(...health) : null,
  ].filter(Boolean);
}

/** Where an agent is listed: this registry, or the peer it was federated from. */
export function originOf(agent) {
  if (!agent.is_federated) return { local: true, label: "This registry" };
  return { local: false, label: agent.origin_registry_name || new URL(agent.registry_url).host, url: agent.registry_url };
}

function section(title, iconName, ...body) {
  return h("section", { class: "mb-4" }, h("h3", { class: "h6 text-uppercase text-body-secondary" }, icon(iconName), " ", title), body);
}

function list(items, render, emptyText) {
  if (!items || !items.length) return h("p", { class: "text-body-secondary mb-0" }, emptyText);
  return h("ul", { class: "list-group" }, items.map((item) => h("li", { class: "list-group-item" }, render(item))));
}

function skillItem(skill) {
  return [
    h("div", { class: "fw-semibold" }, skill.name || skill.id),
    skill.description ? h("div", { class: "small" }, skill.description) : null,
    skill.tags?.length ? h("div", { class: "d-flex flex-wrap gap-1 mt-1" }, skill.tags.map((tag) => h("span", { class: "badge text-bg-light border" }, tag))) : null,
    skill.examples?.length ? h("div", { class: "small text-body-secondary mt-1" }, "e.g. ", skill.examples.slice(0, 2).map((example) => `“${example}”`).join(", ")) : null,
  ];
}

function interfaceItem(entry) {
  return [
    h("div", { class: "d-flex flex-wrap gap-2 align-items-center" }, badge(entry.protocolBinding || "?", "primary"), entry.protocolVersion ? h("span", { class: "small" }, `A2A ${entry.protocolVersion}`) : null),
    h("code", { class: "font-monospace-wrap small" }, entry.url),
  ];
}

/** A security scheme in any of the shapes cards use: {type: ...} or {httpAuthSecurityScheme: {...}}. */
function schemeItem([name, scheme]) {
  const wrapped = Object.keys(scheme || {}).find((key) => key.endsWith("SecurityScheme"));
  const body = wrapped ? scheme[wrapped] : scheme || {};
  const type = wrapped ? wrapped.replace(/SecurityScheme$/, "") : body.type;
  const detail = body.scheme || body.in || body.name || (body.flows ? Object.keys(body.flows).join(", ") : null) || body.openIdConnectUrl;
  return [
    h("div", { class: "d-flex flex-wrap gap-2 align-items-center" }, h("span", { class: "fw-semibold" }, name), type ? badge(type, "info") : null, detail ? h("span", { class: "small" }, String(detail)) : null),
    body.description ? h("div", { class: "small" }, body.description) : null,
  ];
}

function capabilityFlags(capabilities = {}) {
  const flag = (on, label) => badge(`${label}: ${on ? "yes" : "no"}`, on ? "success" : "secondary");
  return h(
    "div",
    { class: "d-flex flex-wrap gap-2" },
    flag(capabilities.streaming, "Streaming"),
    flag(capabilities.pushNotifications, "Push notifications"),
    (capabilities.extensions || []).map((extension) => badge(extension.uri || String(extension), "light text-dark border")),
  );
}

function cardBody(card) {
  return [
    section("Skills", "lightning", list(card.skills, skillItem, "The card lists no skills.")),
    section("Interfaces", "plug", list(card.supportedInterfaces, interfaceItem, "The card lists no interfaces.")),
    section("Security schemes", "shield-lock", list(Object.entries(card.securitySchemes || {}), schemeItem, "No authentication is declared: anyone may call it.")),
    section("Capabilities", "toggles", capabilityFlags(card.capabilities)),
    section(
      "Media types",
      "file-earmark",
      h("p", { class: "small mb-0" }, `In: ${(card.defaultInputModes || []).join(", ") || "—"} · Out: ${(card.defaultOutputModes || []).join(", ") || "—"}`),
    ),
    card.provider ? section("Provider", "building", h("p", { class: "mb-0" }, card.provider.organization || "", card.provider.url ? [" · ", h("a", { href: card.provider.url, rel: "noopener noreferrer", target: "_blank" }, card.provider.url)] : null)) : null,
  ];
}

/** What a federated agent's discovery result says about its card. */
function summaryBody(agent) {
  const a2a = agent.a2a || {};
  return [
    section("Skills", "lightning", list(a2a.skills, (name) => h("span", { class: "fw-semibold" }, name), "The origin reported no skills.")),
    section("Interfaces", "plug", list(a2a.protocolBindings, (binding) => badge(binding, "primary"), "The origin reported no interfaces."), list(agent.apiEndpoints, (url) => h("code", { class: "font-monospace-wrap small" }, url), "")),
    section("Security schemes", "shield-lock", list(a2a.securitySchemes, (name) => badge(name, "info"), "No authentication is declared.")),
    section("Capabilities", "toggles", capabilityFlags({ streaming: a2a.streaming, pushNotifications: a2a.pushNotifications, extensions: a2a.extensions })),
  ];
}

function recordFacts(agent, origin) {
  const row = (label, value) => [h("dt", { class: "col-sm-4" }, label), h("dd", { class: "col-sm-8 mb-1" }, value)];
  return h(
    "dl",
    { class: "row small mb-4" },
    row("Registry", origin.local ? origin.label : [h("span", { "data-origin": origin.label }, origin.label), " · ", h("a", { href: origin.url, rel: "noopener noreferrer", target: "_blank" }, origin.url)]),
    row("DID", h("code", { class: "font-monospace-wrap" }, agent.did)),
    row("Type", agent.agentType),
    agent.capabilities?.length ? row("Capabilities", agent.capabilities.join(", ")) : null,
    agent.tags?.length ? row("Tags", agent.tags.join(", ")) : null,
    row("Registered", formatDate(agent.createdAt)),
  );
}

/**
 * Open the modal for a discovery result (or any agent record). Resolves when it closes; it
 * also closes, and cleans up, when the view that opened it goes away.
 */
export function openAgentDetail(view, agent) {
  const id = `agent-detail-${++modalCounter}`;
  const origin = originOf(agent);
  const content = h("div", {}, loadingState("Loading the agent card…"));
  const copyButton = h("button", { type: "button", class: "btn btn-outline-primary", disabled: true }, icon("clipboard"), " Copy as JSON");
  const modal = h(
    "div",
    { class: "modal fade", id, tabindex: "-1", "aria-labelledby": `${id}-title`, "aria-hidden": "true", dataset: { agentDetail: agent.id } },
    h(
      "div",
      { class: "modal-dialog modal-lg modal-dialog-scrollable modal-fullscreen-sm-down" },
      h(
        "div",
        { class: "modal-content" },
        h(
          "div",
          { class: "modal-header" },
          h(
            "div",
            { class: "me-3" },
            h("h2", { class: "modal-title h4 mb-1", id: `${id}-title` }, agent.name),
            h("div", { class: "d-flex flex-wrap gap-1" }, agentBadges(agent), origin.local ? null : badge(`from ${origin.label}`, "warning", "globe2")),
          ),
          h("button", { type: "button", class: "btn-close", "data-bs-dismiss": "modal", "aria-label": "Close" }),
        ),
        h("div", { class: "modal-body" }, h("p", {}, agent.description), recordFacts(agent, origin), content),
        h("div", { class: "modal-footer" }, copyButton, h("button", { type: "button", class: "btn btn-primary", "data-bs-dismiss": "modal" }, "Close")),
      ),
    ),
  );
  document.body.append(modal);
  const instance = new window.bootstrap.Modal(modal);

  let document_ = agent;
  copyButton.addEventListener("click", () => copyText(JSON.stringify(document_, null, 2), copyButton));
  const load = async () => {
    if (!origin.local) {
      replaceChildren(
        content,
        summaryBody(agent),
        h("p", { class: "small text-body-secondary" }, icon("info-circle"), " The full card is served by ", h("a", { href: `${agent.registry_url}/api/v1/agents/${encodeURIComponent(agent.id)}/card`, rel: "noopener noreferrer", target: "_blank" }, origin.label), "."),
      );
      copyButton.disabled = false;
      return;
    }
    try {
      const card = await view.api.get(`/api/v1/agents/${encodeURIComponent(agent.id)}/card`, { signal: view.signal });
      document_ = card;
      replaceChildren(content, cardBody(card), h("details", {}, h("summary", { class: "mb-2" }, "The card as JSON"), h("pre", { class: "json", tabindex: "0", "aria-label": "Agent card JSON", dataset: { cardJson: "" } }, JSON.stringify(card, null, 2))));
      copyButton.disabled = false;
    } catch (error) {
      if (error.name !== "AbortError") replaceChildren(content, errorState(error, load));
    }
  };
  load();

  return new Promise((resolve) => {
    const cleanUp = () => {
      instance.dispose();
      modal.remove();
    };
    modal.addEventListener("hidden.bs.modal", () => {
      cleanUp();
      resolve();
    });
    view.onDestroy(() => {
      if (document.body.contains(modal)) {
        // Leaving the page (back button) takes the modal and its backdrop with it.
        instance.hide();
        document.querySelectorAll(".modal-backdrop").forEach((backdrop) => backdrop.remove());
        document.body.classList.remove("modal-open");
        document.body.style.removeProperty("overflow");
        document.body.style.removeProperty("padding-right");
        cleanUp();
        resolve();
      }
    });
    instance.show();
  });
}

// The register-agent wizard's last step: the POST /api/v1/agents request the form describes,
// and its review, in words and as the exact request the registry receives.

import { h, replaceChildren } from "../core/dom.js";
import { pretty } from "./wizard_card_json.js";
import { PRICING } from "./wizard_details.js";
import { SOURCES } from "./wizard_start.js";

export const AGENTS = "/api/v1/agents";

/** The request body: the card (or its URL), the registry's fields and the template's other fields. */
export function requestBody(form, { source, card, extra }) {
  const value = (name) => {
    const control = form.elements.namedItem(name);
    return control ? control.value.trim() : "";
  };
  const body = { ...extra };
  if (source === "url") body.cardUrl = value("cardUrl");
  else body.card = card;
  if (value("agentType")) body.agentType = value("agentType");
  if (value("humanReadableId")) body.humanReadableId = value("humanReadableId");
  const tags = value("tags")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  if (tags.length) body.tags = tags;
  if (value("pricing.model")) body.pricing = { model: value("pricing.model") };
  return body;
}

export function drawReview(container, body, source) {
  const card = body.card || {};
  const endpoints = Array.isArray(card.supportedInterfaces) ? card.supportedInterfaces.map((item) => item.url) : card.url ? [card.url] : [];
  const facts = [
    ["Starting point", SOURCES.find((option) => option.value === source).title],
    body.cardUrl ? ["Card URL", h("code", { class: "font-monospace-wrap" }, body.cardUrl)] : null,
    card.name ? ["Name", card.name] : null,
    card.description ? ["Description", card.description] : null,
    endpoints.length
      ? [
          "Endpoints",
          h(
            "ul",
            { class: "list-unstyled mb-0" },
            endpoints.map((url) => h("li", {}, h("code", { class: "font-monospace-wrap" }, url))),
          ),
        ]
      : null,
    Array.isArray(card.skills) ? ["Skills", String(card.skills.length)] : null,
    ["Agent type", body.agentType || "a2a"],
    ["Human-readable id", body.humanReadableId || "made from the name"],
    ["Tags", body.tags ? body.tags.join(", ") : "none"],
    ["Pricing", body.pricing ? PRICING.find((option) => option.value === body.pricing.model).label : "not stated"],
  ].filter(Boolean);
  replaceChildren(
    container,
    h(
      "dl",
      { class: "row mb-3" },
      facts.map(([term, detail]) => [h("dt", { class: "col-sm-4" }, term), h("dd", { class: "col-sm-8" }, detail)]),
    ),
    h(
      "details",
      {},
      h("summary", {}, "The request the registry receives"),
      h("pre", { class: "json mt-2 mb-0", tabindex: "0", "aria-label": "Request body" }, h("code", {}, `POST ${AGENTS}\n\n${pretty(body)}`)),
    ),
  );
}

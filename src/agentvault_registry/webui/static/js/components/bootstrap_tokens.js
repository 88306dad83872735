// Bootstrap tokens: a developer mints a short-lived, single-use token and hands it to an agent,
// which registers itself with it (POST /api/v1/onboard/register). The generator shows the token
// once, with a copy button and a live countdown to its expiry; the history lists every token
// with its status and revokes the active ones. The settings page embeds the history alone.

import { copyText, emptyState, errorState, formatDate, h, icon, loadingState, relativeTime, replaceChildren, toast } from "../core/dom.js";
import { busy, clearErrors, errorSummary, field, showErrors } from "../core/forms.js";
import { confirmAction } from "./modal.js";

const REQUEST = "/api/v1/onboard/bootstrap/request-token";
const TOKENS = "/api/v1/onboard/bootstrap/tokens";
const PAGE_SIZE = 20;
const HISTORY_REFRESH_MS = 15_000;
const LIFETIMES = [
  { value: "300", label: "5 minutes" },
  { value: "900", label: "15 minutes" },
  { value: "1800", label: "30 minutes" },
  { value: "3600", label: "1 hour" },
];
const STATUS = {
  active: { label: "Active", badge: "text-bg-success", iconName: "hourglass-split" },
  consumed: { label: "Used", badge: "text-bg-primary", iconName: "check2-circle" },
  expired: { label: "Expired", badge: "text-bg-secondary", iconName: "clock-history" },
  revoked: { label: "Revoked", badge: "text-bg-danger", iconName: "x-octagon" },
};

let panelCounter = 0;

/** "4:05", "1:02:09": what is left of a lifetime, as a clock shows it. */
export function clockText(milliseconds) {
  const total = Math.max(0, Math.ceil(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function statusBadge(status) {
  const known = STATUS[status] || { label: status, badge: "text-bg-secondary", iconName: "question-circle" };
  return h("span", { class: `badge ${known.badge}`, dataset: { tokenStatus: status } }, icon(known.iconName), " ", known.label);
}

/** The status the list would show now: an active token past its expiry has expired. */
function currentStatus(token, now = Date.now()) {
  return token.status === "active" && new Date(token.expires_at).getTime() <= now ? "expired" : token.status;
}

/** The token as issued, shown once, with its countdown; it says so when the token expires. */
function issuedToken(view, issued) {
  const deadline = Date.now() + issued.expires_in * 1000;
  const inputId = `bootstrap-token-${issued.id}`;
  const countdown = h("span", { role: "timer", class: "fw-semibold font-monospace", dataset: { countdown: "" } });
  const announcement = h("span", { class: "visually-hidden", "aria-live": "polite" });
  const input = h("input", { id: inputId, class: "form-control font-monospace", readOnly: true, value: issued.bootstrap_token, onfocus: (event) => event.target.select() });
  const copy = h("button", { type: "button", class: "btn btn-primary" }, icon("clipboard"), " Copy");
  copy.addEventListener("click", () => copyText(issued.bootstrap_token, copy).catch(() => toast("Copying failed: select the token and copy it yourself.", "warning")));
  const example = [
    `curl -X POST ${window.location.origin}/api/v1/onboard/register \\`,
    `  -H "Bootstrap-Token: ${issued.bootstrap_token}" \\`,
    '  -H "Content-Type: application/json" \\',
    `  -d '{"cardUrl": "https://my-agent.example.com/.well-known/agent-card.json"}'`,
  ].join("\n");
  const status = h("p", { class: "mb-2" }, icon("stopwatch"), " Expires in ", countdown, ` (${formatDate(new Date(deadline))}).`);
  const box = h(
    "div",
    { class: "card border-success border-2 mb-4 shown-once", dataset: { issuedToken: issued.id } },
    h(
      "div",
      { class: "card-body" },
      h("h3", { class: "h6 text-success-emphasis" }, icon("ticket-perforated"), " Your new bootstrap token"),
      h("p", { class: "mb-2" }, "Hand it to the agent now: it is shown only this once, and it registers exactly one agent."),
      h("div", { class: "input-group mb-2" }, h("label", { class: "visually-hidden", for: inputId }, "Bootstrap token"), input, copy),
      status,
      announcement,
      h("details", {}, h("summary", { class: "small" }, "How the agent uses it"), h("pre", { class: "json mt-2 mb-0" }, h("code", {}, example))),
    ),
  );
  const tick = () => {
    const left = deadline - Date.now();
    if (left > 0) {
      countdown.textContent = clockText(left);
      return;
    }
    clearInterval(timer);
    box.classList.replace("border-success", "border-secondary");
    box.dataset.expired = "";
    input.disabled = true;
    copy.disabled = true;
    replaceChildren(status, icon("clock-history"), " ", h("strong", {}, "Expired."), " Generate a new token if the agent has not registered yet.");
    announcement.textContent = "The bootstrap token has expired.";
  };
  const timer = view.every(1000, tick);
  tick();
  return box;
}

/**
 * The form that mints a bootstrap token and shows it once. options.onIssued(issued) runs after
 * each new token (the portal refreshes its history with it).
 */
export function bootstrapTokenGenerator(view, { onIssued } = {}) {
  const suffix = ++panelCounter;
  const shown = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, icon("ticket-perforated"), " Generate token");
  const form = h(
    "form",
    { class: "card card-body mb-3", "aria-label": "Generate a bootstrap token", novalidate: true },
    errorSummary(),
    h(
      "div",
      { class: "row g-3" },
      h("div", { class: "col-md-4" }, field({ name: "expires_in", label: "Lifetime", kind: "select", options: LIFETIMES, help: "The registry may allow less." })),
      h(
        "div",
        { class: "col-md-8" },
        field({ name: "agent_type_hint", label: "Agent type (optional)", maxlength: 64, placeholder: "assistant", help: "Noted on the token, so you can tell your tokens apart." }),
      ),
    ),
    field({
      name: "metadata",
      label: "Metadata (optional JSON object)",
      kind: "textarea",
      rows: 2,
      class: "form-control font-monospace",
      placeholder: '{"team": "search"}',
      help: "Kept with the token for your own bookkeeping; at most 4 KB.",
    }),
    h("div", {}, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { expires_in: Number(form.elements.namedItem("expires_in").value) };
    const hint = form.elements.namedItem("agent_type_hint").value.trim();
    if (hint) body.agent_type_hint = hint;
    const metadata = form.elements.namedItem("metadata").value.trim();
    if (metadata) {
      let parsed;
      try {
        parsed = JSON.parse(metadata);
      } catch (error) {
        showErrors(form, { message: "The metadata is not valid JSON.", details: { metadata: [`Not valid JSON: ${error.message}`] } });
        return;
      }
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        showErrors(form, { message: "The metadata must be a JSON object.", details: { metadata: ['Must be a JSON object, like {"team": "search"}.'] } });
        return;
      }
      body.metadata = parsed;
    }
    try {
      const issued = await busy(submit, () => view.api.post(REQUEST, body, { signal: view.signal }), "Generating…");
      replaceChildren(shown, issuedToken(view, issued));
      shown.querySelector("input").focus();
      if (onIssued) onIssued(issued);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.code === "email_not_verified") {
        showErrors(form, { message: "Verify your email address first: the registry mails a link when you sign up.", details: {} });
      } else {
        showErrors(form, error);
      }
    }
  });
  view.onDestroy(() => replaceChildren(shown));
  return h("div", { class: "bootstrap-token-generator", dataset: { panel: `generator-${suffix}` } }, form, shown);
}

/**
 * Every bootstrap token of the signed-in user, newest first, with its status; active ones can
 * be revoked. The element's reload() fetches the list again. options.headingLevel: 2 on a page
 * of its own (settings), 3 inside the portal's bootstrap token section.
 */
export function bootstrapTokenHistory(view, { headingLevel = 2 } = {}) {
  const suffix = ++panelCounter;
  const body = h("div", { dataset: { tokenHistory: "" } }, loadingState("Loading your bootstrap tokens…"));
  const more = h("div", { class: "text-center" });
  let tokens = [];
  let nextCursor = null;

  async function load(cursor = null) {
    try {
      const page = await view.api.get(TOKENS, { query: { per_page: PAGE_SIZE, cursor }, signal: view.signal });
      tokens = cursor ? tokens.concat(page.tokens) : page.tokens;
      nextCursor = page.pagination.next_cursor;
      draw();
    } catch (error) {
      if (error.name !== "AbortError")
        replaceChildren(
          body,
          errorState(error, () => load(cursor)),
        );
    }
  }

  async function revoke(token, button) {
    const confirmed = await confirmAction({
      title: "Revoke this bootstrap token?",
      body: h("p", { class: "mb-0" }, "An agent that has not registered with it yet will be refused. This cannot be undone."),
      confirmLabel: "Revoke token",
      confirmIcon: "x-octagon",
    });
    if (!confirmed) return;
    try {
      await busy(button, () => view.api.delete(`${TOKENS}/${encodeURIComponent(token.id)}`, { signal: view.signal }), "Revoking…");
      toast("The bootstrap token is revoked.");
      await load();
    } catch (error) {
      if (error.name === "AbortError") return;
      toast(`The token was not revoked: ${error.message}`, "danger");
      await load();
    }
  }

  function row(token) {
    const status = currentStatus(token);
    const expires = new Date(token.expires_at);
    let revokeCell = null;
    if (status === "active") {
      revokeCell = h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": `Revoke the token created ${formatDate(token.created_at)}` }, icon("x-octagon"), " Revoke");
      revokeCell.addEventListener("click", () => revoke(token, revokeCell));
    }
    return h(
      "tr",
      { dataset: { tokenId: token.id, status } },
      h(
        "td",
        {},
        h("code", { class: "small", title: token.id }, `${token.id.slice(0, 8)}…`),
        token.agent_type_hint ? h("div", { class: "small" }, token.agent_type_hint) : null,
        Object.keys(token.metadata || {}).length ? h("div", { class: "small text-body-secondary font-monospace-wrap" }, JSON.stringify(token.metadata)) : null,
      ),
      h("td", {}, statusBadge(status)),
      h("td", { class: "text-nowrap" }, formatDate(token.created_at)),
      h("td", { class: "text-nowrap" }, h("time", { datetime: token.expires_at, title: formatDate(expires) }, relativeTime(expires))),
      h(
        "td",
        {},
        token.consumed_by_agent_id
          ? h("a", { href: `/ui/discovery/agents/${encodeURIComponent(token.consumed_by_agent_id)}` }, icon("robot"), " ", formatDate(token.consumed_at))
          : token.revoked_at
            ? h("span", { class: "text-body-secondary" }, `Revoked ${formatDate(token.revoked_at)}`)
            : "—",
      ),
      h("td", { class: "text-end" }, revokeCell),
    );
  }

  function draw() {
    if (!tokens.length) {
      replaceChildren(body, emptyState({ iconName: "ticket-perforated", title: "No bootstrap tokens yet", text: "Generate one to let an agent register itself." }));
      replaceChildren(more);
      return;
    }
    replaceChildren(
      body,
      h(
        "div",
        { class: "table-responsive" },
        h(
          "table",
          { class: "table align-middle" },
          h("caption", { class: "visually-hidden" }, "Your bootstrap tokens"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Token", "Status", "Created", "Expires", "Used by", h("span", { class: "visually-hidden" }, "Actions")].map((label) => h("th", { scope: "col" }, label)),
            ),
          ),
          h("tbody", {}, tokens.map(row)),
        ),
      ),
    );
    const loadMore = h("button", { type: "button", class: "btn btn-outline-secondary btn-sm" }, "Show older tokens");
    loadMore.addEventListener("click", () => busy(loadMore, () => load(nextCursor), "Loading…"));
    replaceChildren(more, nextCursor ? loadMore : null);
  }

  // Statuses and "expires in" age while the page is open; nobody needs to reload for that.
  view.every(HISTORY_REFRESH_MS, () => {
    if (tokens.length) draw();
  });
  load();
  const section = h(
    "section",
    { class: "bootstrap-token-history", "aria-labelledby": `token-history-heading-${suffix}` },
    h(`h${headingLevel}`, { class: "h5", id: `token-history-heading-${suffix}` }, "Token history"),
    body,
    more,
  );
  section.reload = () => load();
  return section;
}

/** Generator and history together, the history refreshed after each new token. */
export function bootstrapTokensPanel(view) {
  const history = bootstrapTokenHistory(view, { headingLevel: 3 });
  const suffix = ++panelCounter;
  return h(
    "section",
    { class: "bootstrap-tokens-panel", "aria-labelledby": `bootstrap-heading-${suffix}` },
    h("h2", { class: "h4", id: `bootstrap-heading-${suffix}` }, "Bootstrap tokens"),
    h("p", { class: "text-body-secondary" }, "A bootstrap token lets one agent register itself and receive its own API key, without your credentials. It works once and expires soon."),
    bootstrapTokenGenerator(view, { onIssued: () => history.reload() }),
    history,
  );
}

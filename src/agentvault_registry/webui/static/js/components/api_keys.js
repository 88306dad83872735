// API keys: mint one with chosen scopes (the key is shown once, with a copy button), list
// them, revoke with confirmation. Used by the developer portal and the settings page.

import { copyText, emptyState, errorState, formatDate, h, icon, loadingState, relativeTime, replaceChildren, toast } from "../core/dom.js";
import { busy, clearErrors, errorSummary, field, showErrors } from "../core/forms.js";
import { confirmAction } from "./modal.js";

const KEYS = "/api/v1/auth/api-keys";

/** The scopes of plugins/auth/scopes.py, what each lets a key do, and who may grant it. */
export const SCOPES = [
  { name: "agents:read", label: "Read agents", text: "List and read your agents, inactive ones included.", roles: ["developer", "admin"] },
  { name: "agents:write", label: "Manage agents", text: "Register, change and delete your agents.", roles: ["developer", "admin"] },
  { name: "onboard:tokens", label: "Bootstrap tokens", text: "Mint, list and revoke bootstrap tokens for agents that register themselves.", roles: ["developer", "admin"] },
  { name: "admin", label: "Administer the registry", text: "Everything an admin may do: peers, users, activity. Only admins can grant it.", roles: ["admin"] },
];

const LIFETIMES = [
  { value: "", label: "Never expires" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
];

let panelCounter = 0;

function scopeBadges(scopes) {
  return h(
    "div",
    { class: "d-flex flex-wrap gap-1" },
    scopes.map((scope) => h("span", { class: "badge text-bg-secondary font-monospace fw-normal" }, scope)),
  );
}

/** The key once, with what to do with it; it is gone when the user says so or leaves. */
function shownOnce(created, onDone) {
  const inputId = `new-api-key-${created.id}`;
  const copy = h("button", { type: "button", class: "btn btn-primary" }, icon("clipboard"), " Copy");
  copy.addEventListener("click", () => copyText(created.key, copy).catch(() => toast("Copying failed: select the key and copy it yourself.", "warning")));
  const example = `curl -H "X-API-Key: ${created.key}" ${window.location.origin}/api/v1/agents?owner=me`;
  return h(
    "div",
    { class: "card border-success border-2 mb-4 shown-once", role: "status", dataset: { newKey: "" } },
    h(
      "div",
      { class: "card-body" },
      h("h3", { class: "h6 text-success-emphasis" }, icon("key"), ` New key “${created.name}”`),
      h("p", { class: "mb-2" }, "Copy it now: it is shown only this once, and the registry keeps only its digest."),
      h(
        "div",
        { class: "input-group mb-2" },
        h("label", { class: "visually-hidden", for: inputId }, "New API key"),
        h("input", { id: inputId, class: "form-control font-monospace", readOnly: true, value: created.key, onfocus: (event) => event.target.select() }),
        copy,
      ),
      h("p", { class: "small mb-2" }, "Send it in the ", h("code", {}, "X-API-Key"), " header, for example:"),
      h("pre", { class: "json mb-2" }, h("code", {}, example)),
      h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onclick: onDone }, "I have stored it"),
    ),
  );
}

/**
 * The API key panel: a create form and the list of the signed-in user's keys.
 * view: the View that embeds it (its api, session and signal are used).
 */
export function apiKeysPanel(view) {
  const suffix = ++panelCounter;
  const role = view.session.user ? view.session.user.role : "developer";
  const list = h("div", { dataset: { apiKeyList: "" } }, loadingState("Loading your API keys…"));
  const revealed = h("div", { "aria-live": "polite" });

  async function load() {
    try {
      const { api_keys: keys } = await view.api.get(KEYS, { signal: view.signal });
      replaceChildren(
        list,
        keys.length ? table(keys) : emptyState({ iconName: "key", title: "No API keys yet", text: "Create one above for scripts and CI; revoke it here when it is no longer needed." }),
      );
    } catch (error) {
      if (error.name !== "AbortError") replaceChildren(list, errorState(error, load));
    }
  }

  async function revoke(key, button) {
    const confirmed = await confirmAction({
      title: "Revoke this API key?",
      body: [h("p", {}, "Anything still using ", h("strong", {}, key.name), ` (${key.prefix}…) will be refused from now on.`), h("p", { class: "mb-0" }, "This cannot be undone.")],
      confirmLabel: "Revoke key",
      confirmIcon: "x-octagon",
    });
    if (!confirmed) return;
    try {
      await busy(button, () => view.api.delete(`${KEYS}/${encodeURIComponent(key.id)}`, { signal: view.signal }), "Revoking…");
      toast(`Revoked the key “${key.name}”.`);
      await load();
    } catch (error) {
      if (error.name !== "AbortError") toast(`The key was not revoked: ${error.message}`, "danger");
    }
  }

  function table(keys) {
    return h(
      "div",
      { class: "table-responsive" },
      h(
        "table",
        { class: "table align-middle" },
        h("caption", { class: "visually-hidden" }, "Your API keys"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Name", "Scopes", "Created", "Last used", "Expires", h("span", { class: "visually-hidden" }, "Actions")].map((label) => h("th", { scope: "col" }, label)),
          ),
        ),
        h(
          "tbody",
          {},
          keys.map((key) => {
            const revokeButton = h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": `Revoke ${key.name}` }, icon("x-octagon"), " Revoke");
            revokeButton.addEventListener("click", () => revoke(key, revokeButton));
            return h(
              "tr",
              { dataset: { keyId: key.id } },
              h(
                "td",
                {},
                h("div", { class: "fw-semibold" }, key.name),
                h("code", { class: "small" }, `${key.prefix}…`),
                key.agent_id ? h("div", { class: "small" }, h("a", { href: `/ui/discovery/agents/${encodeURIComponent(key.agent_id)}` }, "an agent's own key")) : null,
              ),
              h("td", {}, scopeBadges(key.scopes)),
              h("td", { class: "text-nowrap" }, formatDate(key.created_at)),
              h("td", { class: "text-nowrap" }, key.last_used_at ? relativeTime(key.last_used_at) : "Never"),
              h("td", { class: "text-nowrap" }, key.expires_at ? formatDate(key.expires_at) : "Never"),
              h("td", { class: "text-end" }, revokeButton),
            );
          }),
        ),
      ),
    );
  }

  const scopeBoxes = SCOPES.filter((scope) => scope.roles.includes(role)).map((scope) =>
    field({
      kind: "checkbox",
      name: "scope",
      value: scope.name,
      id: `api-key-scope-${scope.name.replace(/\W/g, "-")}-${suffix}`,
      label: [scope.label, " ", h("code", { class: "small" }, scope.name)],
      help: scope.text,
      defaultChecked: scope.name === "agents:read",
    }),
  );
  const scopesId = `api-key-scopes-${suffix}`;
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, icon("plus-lg"), " Create key");
  const form = h(
    "form",
    { class: "card card-body mb-4", "aria-label": "Create an API key", novalidate: true },
    h("h3", { class: "h6" }, "Create a key"),
    errorSummary(),
    h(
      "div",
      { class: "row g-3" },
      h(
        "div",
        { class: "col-md-7" },
        field({ name: "name", label: "Name", required: true, maxlength: 100, placeholder: "CI deploys", help: "What uses it, so you know what breaks when you revoke it." }),
      ),
      h("div", { class: "col-md-5" }, field({ name: "expires_at", label: "Lifetime", kind: "select", options: LIFETIMES })),
    ),
    h("fieldset", { id: scopesId, name: "scopes", class: "mb-1" }, h("legend", { class: "form-label fs-6" }, "Scopes"), scopeBoxes),
    h("div", { id: `${scopesId}-feedback`, class: "invalid-feedback mb-3" }),
    h("div", {}, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const name = form.elements.namedItem("name").value.trim();
    const scopes = Array.from(form.querySelectorAll("input[name=scope]:checked"), (box) => box.value);
    const days = form.elements.namedItem("expires_at").value;
    const problems = {};
    if (!name) problems.name = ["Give the key a name."];
    if (!scopes.length) problems.scopes = ["Choose at least one scope."];
    if (Object.keys(problems).length) {
      showErrors(form, { message: "Check the highlighted fields.", details: problems });
      return;
    }
    const body = { name, scopes, expires_at: days ? new Date(Date.now() + Number(days) * 86_400_000).toISOString() : null };
    try {
      const created = await busy(submit, () => view.api.post(KEYS, body, { signal: view.signal }), "Creating…");
      form.reset();
      replaceChildren(
        revealed,
        shownOnce(created, () => replaceChildren(revealed)),
      );
      revealed.querySelector("input").focus();
      await load();
    } catch (error) {
      if (error.name !== "AbortError") showErrors(form, error);
    }
  });
  // The key must not outlive the page that showed it.
  view.onDestroy(() => replaceChildren(revealed));

  load();
  return h(
    "section",
    { class: "api-keys-panel", "aria-labelledby": `api-keys-heading-${suffix}` },
    h("h2", { class: "h4", id: `api-keys-heading-${suffix}` }, "API keys"),
    h("p", { class: "text-body-secondary" }, "Keys let scripts call the API as you, with only the scopes you give them. A key never has more rights than your account."),
    revealed,
    form,
    h("h3", { class: "h6" }, "Your keys"),
    list,
  );
}

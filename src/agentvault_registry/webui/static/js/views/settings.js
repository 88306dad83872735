// Settings: the account, its password and sessions, its API keys and bootstrap token
// history, and how this browser shows the UI (remembered here, not on the server).

import { formatDate, h, icon, toast } from "../core/dom.js";
import { busy, clearErrors, errorSummary, field, formValues, showErrors } from "../core/forms.js";
import { readPrefs, writePrefs } from "../core/prefs.js";
import { View } from "../core/view.js";
import { apiKeysPanel } from "../components/api_keys.js";
import { bootstrapTokenHistory } from "../components/bootstrap_tokens.js";

function section(id, title, description, ...body) {
  return h(
    "section",
    { class: "card mb-4", "aria-labelledby": `${id}-heading`, id },
    h(
      "div",
      { class: "card-body" },
      h("h2", { class: "h5 card-title", id: `${id}-heading` }, title),
      description ? h("p", { class: "text-body-secondary" }, description) : null,
      body,
    ),
  );
}

function choice(name, legend, options, current, onChange) {
  return h(
    "fieldset",
    { class: "mb-3" },
    h("legend", { class: "form-label fs-6" }, legend),
    h(
      "div",
      { class: "btn-group flex-wrap", role: "group" },
      options.map(([value, label, iconName]) => {
        const id = `pref-${name}-${value}`;
        return [
          h("input", {
            type: "radio",
            class: "btn-check",
            name: `pref-${name}`,
            id,
            value,
            checked: current === value,
            onchange: () => onChange(value),
          }),
          h("label", { class: "btn btn-outline-primary", for: id }, iconName ? [icon(iconName), " "] : null, label),
        ];
      }),
    ),
  );
}

export default class SettingsView extends View {
  async render(container) {
    const user = this.session.user;
    const sections = [
      this.accountSection(user),
      this.passwordSection(),
      this.sessionsSection(),
      this.panelCard("api-keys", apiKeysPanel(this)),
      this.panelCard("token-history", bootstrapTokenHistory(this)),
      this.appearanceSection(),
    ];
    const links = [
      ["account", "Account"],
      ["password", "Password"],
      ["sessions", "Sessions"],
      ["api-keys", "API keys"],
      ["token-history", "Bootstrap token history"],
      ["appearance", "Appearance"],
    ];
    container.append(
      h("h1", { class: "mb-4" }, "Settings"),
      h(
        "div",
        { class: "row g-4" },
        h(
          "nav",
          { class: "col-lg-3", "aria-label": "Settings sections" },
          h("div", { class: "list-group sticky-lg-top settings-nav" }, links.map(([id, label]) => h("a", { class: "list-group-item list-group-item-action", href: `#${id}` }, label))),
        ),
        h("div", { class: "col-lg-9" }, sections),
      ),
    );
  }

  /** A panel the developer portal shares, in this page's card, under an anchor of its own. */
  panelCard(id, panel) {
    return h("div", { class: "card mb-4", id }, h("div", { class: "card-body" }, panel));
  }

  accountSection(user) {
    const row = (label, value) => [h("dt", { class: "col-sm-4" }, label), h("dd", { class: "col-sm-8" }, value)];
    return section(
      "account",
      "Account",
      null,
      h(
        "dl",
        { class: "row mb-0" },
        row("Username", user.username),
        row("Email", [
          user.email,
          " ",
          user.is_verified
            ? h("span", { class: "badge text-bg-success" }, icon("patch-check"), " verified")
            : h("span", { class: "badge text-bg-warning" }, "not verified: open the link we mailed you"),
        ]),
        row("Role", user.role),
        row("Member since", formatDate(user.created_at)),
      ),
    );
  }

  passwordSection() {
    const button = h("button", { type: "submit", class: "btn btn-primary" }, "Change password");
    const form = h(
      "form",
      { "aria-label": "Change password" },
      errorSummary(),
      field({ name: "current_password", label: "Current password", type: "password", required: true, autocomplete: "current-password" }),
      field({ name: "new_password", label: "New password", type: "password", required: true, minlength: 12, autocomplete: "new-password", help: "At least 12 characters; common passwords are refused." }),
      button,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      try {
        await busy(button, () => this.api.put("/api/v1/auth/password", formValues(form), { signal: this.signal }));
        form.reset();
        toast("Password changed. Every other session was signed out.");
      } catch (error) {
        if (error.name !== "AbortError") showErrors(form, error);
      }
    });
    return section("password", "Password", "Changing it signs out every other session of this account.", form);
  }

  sessionsSection() {
    const button = h("button", { type: "button", class: "btn btn-outline-danger" }, icon("box-arrow-right"), " Sign out everywhere");
    button.addEventListener("click", async () => {
      try {
        await busy(button, () => this.session.logout({ everywhere: true }), "Signing out…");
        toast("Every session of this account is signed out.");
        this.router.navigate("/ui/login");
      } catch (error) {
        toast(error.message, "danger");
      }
    });
    return section(
      "sessions",
      "Sessions",
      "Signed in on another device or browser you no longer use? End every session of this account, this one included. API keys keep working; revoke them below.",
      button,
    );
  }

  appearanceSection() {
    const prefs = readPrefs();
    const remember = (changes, label) => {
      writePrefs(changes);
      toast(`${label} saved for this browser.`);
    };
    return section(
      "appearance",
      "Appearance",
      "Remembered in this browser.",
      choice(
        "theme",
        "Theme",
        [
          ["light", "Light", "sun"],
          ["dark", "Dark", "moon-stars"],
          ["system", "System", "circle-half"],
        ],
        prefs.theme,
        (theme) => remember({ theme }, "Theme"),
      ),
      choice(
        "density",
        "Density",
        [
          ["comfortable", "Comfortable"],
          ["compact", "Compact"],
        ],
        prefs.density,
        (density) => remember({ density }, "Density"),
      ),
      choice(
        "discovery-layout",
        "Discovery results",
        [
          ["grid", "Grid", "grid-3x3-gap"],
          ["list", "List", "list-ul"],
        ],
        prefs.discoveryLayout,
        (discoveryLayout) => remember({ discoveryLayout }, "Layout"),
      ),
    );
  }
}

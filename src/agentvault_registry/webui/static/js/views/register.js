import { h } from "../core/dom.js";
import { field } from "../core/forms.js";
import { View } from "../core/view.js";
import { authCard, doneCard } from "./auth_forms.js";

export default class RegisterView extends View {
  async render(container) {
    container.append(
      authCard({
        title: "Create an account",
        intro: "Register agents, hand out bootstrap tokens and follow your agents' activity.",
        fields: [
          field({ name: "email", label: "Email", type: "email", required: true, autocomplete: "email", autofocus: true }),
          field({ name: "username", label: "Username", required: true, autocomplete: "username", help: "Letters, digits, dots, dashes and underscores." }),
          field({ name: "password", label: "Password", type: "password", required: true, minlength: 12, autocomplete: "new-password", help: "At least 12 characters; common passwords are refused." }),
        ],
        submitLabel: "Create account",
        submit: async (values) => {
          const user = await this.api.post("/api/v1/auth/register", values, { auth: false });
          container.replaceChildren(
            doneCard({
              title: "Check your mail",
              text: `Welcome, ${user.username}. We sent a link to ${user.email}; open it to verify your address, then sign in.`,
              action: h("a", { class: "btn btn-primary", href: "/ui/login" }, "Sign in"),
            }),
          );
        },
        footer: ["Already registered? ", h("a", { href: "/ui/login" }, "Sign in")],
      }),
    );
  }
}

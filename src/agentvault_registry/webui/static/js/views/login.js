import { h } from "../core/dom.js";
import { field } from "../core/forms.js";
import { View } from "../core/view.js";
import { authCard, nextPath } from "./auth_forms.js";

export default class LoginView extends View {
  async render(container) {
    container.append(
      authCard({
        title: "Sign in",
        intro: "Use your username or email address.",
        fields: [
          field({ name: "username", label: "Username or email", required: true, autocomplete: "username", autofocus: true }),
          field({ name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password" }),
        ],
        submitLabel: "Sign in",
        submit: async (values) => {
          await this.session.login(values.username, values.password);
          this.router.navigate(nextPath(this.query), { replace: true });
        },
        footer: [
          h("a", { href: "/ui/recover" }, "Forgot your password?"),
          " · ",
          h("a", { href: "/ui/register" }, "Create an account"),
        ],
      }),
    );
  }
}

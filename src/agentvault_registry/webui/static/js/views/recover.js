import { h } from "../core/dom.js";
import { field } from "../core/forms.js";
import { View } from "../core/view.js";
import { authCard, doneCard } from "./auth_forms.js";

export default class RecoverView extends View {
  async render(container) {
    container.append(
      authCard({
        title: "Reset your password",
        intro: "We mail a reset link to the address of your account.",
        fields: [field({ name: "email", label: "Email", type: "email", required: true, autocomplete: "email", autofocus: true })],
        submitLabel: "Mail me a link",
        submit: async (values) => {
          await this.api.post("/api/v1/auth/recover", values, { auth: false });
          container.replaceChildren(
            doneCard({
              title: "Check your mail",
              // The registry answers alike for unknown addresses, so nobody learns who has an account.
              text: `If ${values.email} belongs to an account, a reset link is on its way. It works once and expires soon.`,
              action: h("a", { class: "btn btn-outline-primary", href: "/ui/login" }, "Back to sign in"),
            }),
          );
        },
        footer: [h("a", { href: "/ui/login" }, "Back to sign in")],
      }),
    );
  }
}

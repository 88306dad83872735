import { h } from "../core/dom.js";
import { field } from "../core/forms.js";
import { View } from "../core/view.js";
import { authCard, doneCard, tokenFromFragment } from "./auth_forms.js";

export default class ResetPasswordView extends View {
  async render(container) {
    const token = tokenFromFragment();
    if (!token) {
      container.append(
        doneCard({
          title: "Choose a new password",
          kind: "danger",
          text: "This link has no reset token. Ask for a new link and open it from the mail.",
          action: h("a", { class: "btn btn-outline-primary", href: "/ui/recover" }, "Ask for a new link"),
        }),
      );
      return;
    }
    container.append(
      authCard({
        title: "Choose a new password",
        fields: [
          field({ name: "new_password", label: "New password", type: "password", required: true, minlength: 12, autocomplete: "new-password", autofocus: true }),
          field({ name: "confirm_password", label: "Repeat it", type: "password", required: true, minlength: 12, autocomplete: "new-password" }),
        ],
        submitLabel: "Set password",
        submit: async (values, form) => {
          if (values.new_password !== values.confirm_password) {
            const mismatch = new Error("The two passwords differ.");
            mismatch.details = { confirm_password: ["The two passwords differ."] };
            throw mismatch;
          }
          await this.api.post("/api/v1/auth/recover/confirm", { token, new_password: values.new_password }, { auth: false });
          form.closest("section").replaceWith(
            doneCard({
              title: "Password changed",
              text: "Your password is changed and every session was signed out. Sign in with the new password.",
              action: h("a", { class: "btn btn-primary", href: "/ui/login" }, "Sign in"),
            }),
          );
        },
      }),
    );
  }
}

import { h, loadingState } from "../core/dom.js";
import { View } from "../core/view.js";
import { doneCard, tokenFromFragment } from "./auth_forms.js";

export default class VerifyEmailView extends View {
  async render(container) {
    container.append(h("h1", { class: "visually-hidden" }, "Verify your email"), loadingState("Verifying your address…"));
    const token = tokenFromFragment();
    if (!token) {
      container.replaceChildren(
        doneCard({ title: "Verify your email", kind: "danger", text: "This link has no verification token. Open the link from the mail again." }),
      );
      return;
    }
    try {
      const user = await this.api.post("/api/v1/auth/verify-email", { token }, { auth: false, signal: this.signal });
      container.replaceChildren(
        doneCard({
          title: "Email verified",
          text: `Thank you, ${user.username}: your email address is verified.`,
          action: h("a", { class: "btn btn-primary", href: this.session.signedIn ? "/ui/dashboard" : "/ui/login" }, "Continue"),
        }),
      );
    } catch (error) {
      if (error.name === "AbortError") return;
      container.replaceChildren(doneCard({ title: "Verify your email", kind: "danger", text: error.message }));
    }
  }
}

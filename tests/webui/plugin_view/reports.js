// A third-party plugin's page, built only with what js/sdk.js exports.
const { asset_base } = JSON.parse(document.getElementById("webui-config").textContent);
const { View, h, loadingState } = await import(`${asset_base}/js/sdk.js`);

export default class ReportsView extends View {
  async render(container) {
    container.append(h("h1", {}, "Reports"), loadingState());
    // Three requests at once, as a dashboard makes them: they share one token refresh.
    const options = { signal: this.signal };
    const [me, keys, tokens] = await Promise.all([
      this.api.get("/api/v1/auth/me", options),
      this.api.get("/api/v1/auth/api-keys", options),
      this.api.get("/api/v1/onboard/bootstrap/tokens", options),
    ]);
    container.replaceChildren(
      h("h1", {}, "Reports"),
      h(
        "p",
        { "data-report-for": me.username },
        `Reports for ${me.username}, section ${this.params.section || "all"}: `,
        `${keys.api_keys.length} keys, ${tokens.tokens.length} tokens.`,
      ),
    );
  }
}

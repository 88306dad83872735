// Boots the web UI: reads what the server put in the shell, resumes the session, draws the
// navigation and hands the page to the router.

import { Api } from "./core/api.js";
import { toast } from "./core/dom.js";
import { ForbiddenView, NotFoundView } from "./core/fallback_views.js";
import { Navigation } from "./core/nav.js";
import { applyPrefs, followSystemTheme } from "./core/prefs.js";
import { Router } from "./core/router.js";
import { Session } from "./core/session.js";

async function boot() {
  const config = JSON.parse(document.getElementById("webui-config").textContent);
  applyPrefs();
  followSystemTheme();

  const api = new Api();
  const session = new Session(api);
  api.useSession(session);
  const context = { api, session, config, router: null };
  const navigation = new Navigation({
    header: document.getElementById("app-header"),
    views: config.views,
    session,
    registryName: config.registry_name,
  });
  const router = new Router({
    views: config.views,
    outlet: document.getElementById("main"),
    context,
    registryName: config.registry_name,
    fallbackViews: { notFound: NotFoundView, forbidden: ForbiddenView },
  });
  context.router = router;

  await session.restore();
  navigation.render();
  router.onChange(() => navigation.markActive(window.location.pathname));

  session.addEventListener("change", () => {
    navigation.render();
    router.refresh();
  });
  document.addEventListener("click", async (event) => {
    if (!event.target.closest("[data-action=logout]")) return;
    try {
      await session.logout();
      toast("You are signed out.");
    } catch (error) {
      toast(`Signed out here; the registry said: ${error.message}`, "warning");
    }
    router.navigate("/");
  });
  await router.start();
}

boot();

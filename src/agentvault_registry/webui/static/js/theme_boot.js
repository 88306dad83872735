// Applies the remembered theme before the first paint. A classic blocking script on purpose:
// the app's modules run after parsing, too late to avoid a light flash on a dark page.
(function applyStoredTheme() {
  "use strict";
  var stored = null;
  try {
    stored = JSON.parse(window.localStorage.getItem("avreg.prefs") || "{}").theme;
  } catch (error) {
    stored = null;
  }
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  var dark = stored === "dark" || (stored !== "light" && systemDark);
  document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
})();

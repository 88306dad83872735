// Preferences remembered per browser: theme (light, dark or system) and layout choices.

const KEY = "avreg.prefs";
const DEFAULTS = { theme: "system", density: "comfortable", discoveryLayout: "grid" };
const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");

export function readPrefs() {
  try {
    return { ...DEFAULTS, ...JSON.parse(window.localStorage.getItem(KEY) || "{}") };
  } catch {
    return { ...DEFAULTS };
  }
}

export function writePrefs(changes) {
  const prefs = { ...readPrefs(), ...changes };
  try {
    window.localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Storage refused (a private window): the choice lasts until the page closes.
  }
  applyPrefs(prefs);
  return prefs;
}

export function applyPrefs(prefs = readPrefs()) {
  const dark = prefs.theme === "dark" || (prefs.theme === "system" && darkQuery.matches);
  document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
  document.body.classList.toggle("density-compact", prefs.density === "compact");
}

export function followSystemTheme() {
  darkQuery.addEventListener("change", () => applyPrefs());
}

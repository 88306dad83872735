// What a plugin's view module builds with: the same module instances the app uses. A plugin
// module served from its own URL imports it through the versioned asset base, e.g.
//   const { asset_base } = JSON.parse(document.getElementById("webui-config").textContent);
//   const { View, h } = await import(`${asset_base}/js/sdk.js`);
//   export default class ReportsView extends View { async render(container) { ... } }

export { ApiError } from "./core/api.js";
export { createChart } from "./core/charts.js";
export {
  copyText,
  emptyState,
  errorState,
  formatCount,
  formatDate,
  h,
  icon,
  loadingState,
  relativeTime,
  replaceChildren,
  spinner,
  svg,
  toast,
} from "./core/dom.js";
export { busy, clearErrors, errorSummary, field, formValues, showErrors } from "./core/forms.js";
export { View } from "./core/view.js";

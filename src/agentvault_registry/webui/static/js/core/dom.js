// Building the page from data without innerHTML: every string a user or a peer registry
// supplied lands in a text node or an attribute, never in markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function applyProps(element, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") {
      element.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "style") {
      // CSSOM assignment: allowed by a CSP without 'unsafe-inline', unlike a style attribute.
      Object.assign(element.style, value);
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name in element && !name.includes("-") && !(element instanceof SVGElement)) {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/** An HTML element: h("a", {href: "/ui", class: "nav-link"}, "Home"). */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  applyProps(element, props);
  append(element, children);
  return element;
}

/** An SVG element, attributes set as attributes. */
export function svg(tag, props, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  applyProps(element, props);
  append(element, children);
  return element;
}

export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

export function icon(name, label) {
  const element = h("i", { class: `bi bi-${name}`, "aria-hidden": "true" });
  return label ? [element, h("span", { class: "visually-hidden" }, label)] : element;
}

export function spinner(label = "Loading…") {
  return h(
    "span",
    { class: "d-inline-flex align-items-center gap-2", role: "status" },
    h("span", { class: "spinner-border spinner-border-sm", "aria-hidden": "true" }),
    h("span", {}, label),
  );
}

/** What a view shows while its data loads. */
export function loadingState(label = "Loading…") {
  return h("div", { class: "state state-loading text-body-secondary", "data-state": "loading" }, spinner(label));
}

/** What a view shows when there is nothing yet, with the action that changes that. */
export function emptyState({ iconName = "inbox", title, text, action } = {}) {
  return h(
    "div",
    { class: "state state-empty text-center text-body-secondary", "data-state": "empty" },
    h("div", { class: "state-icon" }, icon(iconName)),
    h("p", { class: "fw-semibold mb-1" }, title),
    text ? h("p", { class: "mb-3" }, text) : null,
    action || null,
  );
}

/** What a view shows when loading failed: the API's message, its request id, and a retry. */
export function errorState(error, onRetry) {
  return h(
    "div",
    { class: "state state-error alert alert-danger", role: "alert", "data-state": "error" },
    h("p", { class: "fw-semibold mb-1" }, icon("exclamation-triangle"), " ", errorMessage(error)),
    detailList(error && error.details),
    error && error.requestId ? h("p", { class: "small mb-2" }, `Request id: ${error.requestId}`) : null,
    onRetry ? h("button", { type: "button", class: "btn btn-sm btn-outline-danger", onclick: onRetry }, "Try again") : null,
  );
}

/** An API error's details ({"field": ["problem"]}, nested for nested fields) as a list. */
function detailList(details) {
  const lines = [];
  const walk = (value, path) => {
    if (typeof value === "string") lines.push(path ? `${path}: ${value}` : value);
    else if (Array.isArray(value)) value.forEach((item) => walk(item, path));
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
    }
  };
  walk(details || {}, "");
  return lines.length ? h("ul", { class: "small mb-2" }, lines.slice(0, 8).map((line) => h("li", {}, line))) : null;
}

export function errorMessage(error) {
  if (!error) return "Something went wrong.";
  return error.message || String(error);
}

/** A short-lived message in the corner; polite, so screen readers hear it without focus. */
export function toast(message, kind = "success") {
  const container = document.getElementById("toasts");
  const element = h(
    "div",
    { class: `toast align-items-center text-bg-${kind} border-0 show`, role: kind === "danger" ? "alert" : "status" },
    h(
      "div",
      { class: "d-flex" },
      h("div", { class: "toast-body" }, message),
      h("button", { type: "button", class: "btn-close btn-close-white me-2 m-auto", "aria-label": "Close", onclick: () => element.remove() }),
    ),
  );
  container.append(element);
  setTimeout(() => element.remove(), 5000);
  return element;
}

/** Copy text, and say so on the button that asked. */
export async function copyText(text, button) {
  await navigator.clipboard.writeText(text);
  if (button) {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
  }
}

const DATE_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatDate(value) {
  return value ? DATE_FORMAT.format(new Date(value)) : "—";
}

export function relativeTime(value, now = Date.now()) {
  if (!value) return "—";
  const seconds = Math.round((new Date(value).getTime() - now) / 1000);
  const steps = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return RELATIVE.format(Math.round(seconds / size), unit);
  }
  return RELATIVE.format(seconds, "second");
}

export function formatCount(value) {
  return typeof value === "number" ? value.toLocaleString() : "—";
}

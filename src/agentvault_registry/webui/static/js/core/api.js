// The registry's REST API as the web UI uses it: JSON in and out, the registry's one error
// shape as ApiError, the session's access token on every call, and one retry after a refresh
// when the token turns out to be stale.

export class ApiError extends Error {
  constructor(status, body, requestId) {
    super((body && body.message) || `The registry answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.code = (body && body.error) || "http_error";
    this.details = (body && body.details) || {};
    this.requestId = (body && body.request_id) || requestId || null;
  }
}

const NETWORK_ERROR = { error: "network_error", message: "The registry could not be reached. Check your connection and try again." };

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return { error: "bad_response", message: "The registry sent a response that is not JSON." };
  }
}

export class Api {
  constructor() {
    this.session = null;
  }

  /** The session that owns the tokens; set once at boot (the two need each other). */
  useSession(session) {
    this.session = session;
  }

  /**
   * Send one request. Returns {status, data, headers}. Throws ApiError for any answer >= 400.
   * options: query, body (JSON), headers, auth (default true), signal, and retry (default
   * true): refresh the session and retry once on a 401.
   */
  async send(method, path, options = {}) {
    const { query, body, headers = {}, auth = true, signal, retry = true } = options;
    const attempt = async () => {
      const requestHeaders = { Accept: "application/json", ...headers };
      if (body !== undefined) requestHeaders["Content-Type"] = "application/json";
      const token = auth && this.session ? this.session.accessToken : null;
      if (token) requestHeaders.Authorization = `Bearer ${token}`;
      let response;
      try {
        response = await fetch(withQuery(path, query), {
          method,
          headers: requestHeaders,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
          credentials: "same-origin",
        });
      } catch (error) {
        if (error.name === "AbortError") throw error;
        throw new ApiError(0, NETWORK_ERROR);
      }
      return { response, sentToken: token };
    };
    let { response, sentToken } = await attempt();
    if (response.status === 401 && sentToken && retry && this.session) {
      // Expired or revoked between the scheduled refreshes: refresh once (shared with every
      // other request that hit the same 401) and retry.
      if (await this.session.refreshAfter(sentToken)) ({ response } = await attempt());
    }
    const data = await readBody(response);
    if (!response.ok) throw new ApiError(response.status, data, response.headers.get("X-Request-ID"));
    return { status: response.status, data, headers: response.headers };
  }

  async get(path, options) {
    return (await this.send("GET", path, options)).data;
  }

  async post(path, body, options = {}) {
    return (await this.send("POST", path, { ...options, body })).data;
  }

  async put(path, body, options = {}) {
    return (await this.send("PUT", path, { ...options, body })).data;
  }

  async patch(path, body, options = {}) {
    return (await this.send("PATCH", path, { ...options, body })).data;
  }

  async delete(path, options) {
    return (await this.send("DELETE", path, options)).data;
  }
}

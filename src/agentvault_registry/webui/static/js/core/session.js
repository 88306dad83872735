// Who is signed in. The access token lives in memory only; the refresh token is kept in
// localStorage so a reload or a second tab stays signed in. Refreshes rotate the refresh
// token and the registry revokes a session whose old refresh token is presented again, so
// exactly one refresh runs at a time, across tabs too (Web Locks), and each reads the newest
// refresh token once it holds the lock.

const REFRESH_KEY = "avreg.refresh_token";
const CHANNEL = "avreg-session";
const LOCK = "avreg-refresh";
// Refresh this long before the access token expires, so requests never carry a stale one.
const REFRESH_MARGIN_MS = 30_000;
const MIN_REFRESH_DELAY_MS = 5_000;

function storedRefreshToken() {
  try {
    return window.localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function storeRefreshToken(token) {
  try {
    if (token) window.localStorage.setItem(REFRESH_KEY, token);
    else window.localStorage.removeItem(REFRESH_KEY);
  } catch {
    // Private windows may refuse storage: the session then lasts as long as the page.
  }
}

async function exclusively(work) {
  if (navigator.locks) return navigator.locks.request(LOCK, work);
  return work();
}

export class Session extends EventTarget {
  constructor(api) {
    super();
    this.api = api;
    this.accessToken = null;
    this.user = null;
    this.refreshTimer = null;
    this.pendingRefresh = null;
    this.channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
    if (this.channel) this.channel.onmessage = (event) => this.onOtherTab(event.data);
  }

  get signedIn() {
    return this.user !== null;
  }

  get isAdmin() {
    return this.user !== null && this.user.role === "admin";
  }

  /** At boot: resume the session a refresh token names, if any. */
  async restore() {
    if (!storedRefreshToken()) return false;
    return this.refresh();
  }

  async login(username, password) {
    const pair = await this.api.post("/api/v1/auth/login", { username, password }, { auth: false });
    await this.adopt(pair);
    this.channel?.postMessage({ type: "signed-in" });
  }

  /** Sign out here (or, with everywhere, every session of the account) and in every tab. */
  async logout({ everywhere = false } = {}) {
    try {
      if (this.accessToken) {
        await this.api.post("/api/v1/auth/logout", everywhere ? { everywhere: true } : undefined);
      }
    } finally {
      this.forget();
      this.channel?.postMessage({ type: "signed-out" });
    }
  }

  async adopt(pair) {
    this.accessToken = pair.access_token;
    storeRefreshToken(pair.refresh_token);
    this.scheduleRefresh(pair.expires_in);
    await this.loadUser();
  }

  async loadUser() {
    // No refresh-and-retry here: this runs inside a refresh, which would wait on itself.
    const user = await this.api.get("/api/v1/auth/me", { retry: false });
    const before = this.user;
    this.user = user;
    // A refresh that finds the same account is no change: views keep what they show.
    const changed = !before || before.id !== user.id || before.role !== user.role || before.is_verified !== user.is_verified;
    if (changed) this.dispatchEvent(new CustomEvent("change", { detail: { user } }));
    return user;
  }

  scheduleRefresh(expiresInSeconds) {
    clearTimeout(this.refreshTimer);
    const delay = Math.max(expiresInSeconds * 1000 - REFRESH_MARGIN_MS, MIN_REFRESH_DELAY_MS);
    this.refreshTimer = setTimeout(() => this.refresh(), delay);
  }

  /** Refresh unless another caller already did since ``staleToken`` was sent. */
  async refreshAfter(staleToken) {
    if (this.pendingRefresh) return this.pendingRefresh;
    if (this.accessToken && this.accessToken !== staleToken) return true;
    return this.refresh();
  }

  /** One refresh at a time: callers that arrive while one runs share its outcome. */
  refresh() {
    if (!this.pendingRefresh) {
      this.pendingRefresh = exclusively(() => this.refreshHoldingLock()).finally(() => {
        this.pendingRefresh = null;
      });
    }
    return this.pendingRefresh;
  }

  async refreshHoldingLock() {
    const refreshToken = storedRefreshToken();
    if (!refreshToken) {
      this.forget();
      return false;
    }
    try {
      const pair = await this.api.post("/api/v1/auth/refresh", { refresh_token: refreshToken }, { auth: false });
      await this.adopt(pair);
      return true;
    } catch (error) {
      // A refused refresh token ends the session; a network failure keeps it for a retry.
      if (error.status === 401 || error.status === 403) this.forget();
      return false;
    }
  }

  forget() {
    const wasSignedIn = this.signedIn;
    clearTimeout(this.refreshTimer);
    this.accessToken = null;
    this.user = null;
    storeRefreshToken(null);
    if (wasSignedIn) this.dispatchEvent(new CustomEvent("change", { detail: { user: null } }));
  }

  onOtherTab(message) {
    if (message.type === "signed-out") {
      this.forget();
    } else if (message.type === "signed-in" && !this.signedIn) {
      this.refresh();
    }
  }
}

// The dashboard's browser side, plain JavaScript served as is (no build step). The server renders
// every bit of HTML; this script only:
// - re-fetches the page's #live region (`?fragment=1`) when a matching cluster event arrives on
//   /v1/events, at most once per REFRESH_MS, and on a timer where the page asks for it (data-poll);
// - turns [data-api] buttons and forms into /v1 calls and shows the API's message when one fails;
// - follows a task's logs; shows <time> in the reader's time zone;
// - when the manager answers 401 (a token revoked while the page was open), asks once for a token
//   and signs in with it, so the manager keeps it in its HttpOnly cookie (src/api/browser-login.ts)
//   that pages, fragments, the event stream and the logs all carry.
(() => {
  "use strict";
  const REFRESH_MS = 300;
  const RECONNECT_MS = 3000;
  const MAX_LOG_CHARS = 200_000;
  const FLASH_MS = 8000;

  const live = document.getElementById("live");
  const flash = document.getElementById("flash");
  const liveStatus = document.getElementById("live-status");

  // ---- API calls

  function send(method, url, body, signal) {
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  }

  let signedInAt = -1;
  let signingIn = null;
  let declined = false;

  /** `?token=` on a dashboard address is the manager's sign-in: a valid token comes back as a cookie. */
  async function signIn() {
    const typed = prompt("This Cube manager needs an API token (cube dev prints it as CUBE_TOKEN):");
    if (!typed || !typed.trim()) {
      // Asked once: the page stops asking (it would every few seconds) until a reload shows the sign-in form.
      declined = true;
      show("Not signed in: this page no longer updates. Reload it to sign in.", "error");
      return false;
    }
    const res = await fetch(`/ui?token=${encodeURIComponent(typed.trim())}`);
    if (res.ok) signedInAt = performance.now();
    else show("That token was refused: it is unknown, mistyped or revoked.", "error");
    return res.ok;
  }

  /** Calls that fail together share one question. */
  function signInOnce() {
    if (declined) return Promise.resolve(false);
    signingIn ??= signIn().finally(() => (signingIn = null));
    return signingIn;
  }

  /** One retry after a 401: at once if another call signed in meanwhile, else after asking the reader. */
  async function api(method, url, body, signal) {
    const started = performance.now();
    const res = await send(method, url, body, signal);
    if (res.status !== 401) return res;
    if (signedInAt < started && !(await signInOnce())) return res;
    return send(method, url, body, signal);
  }

  async function errorOf(res) {
    try {
      const body = await res.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch {
      // Not the API's JSON error: fall back to the status line.
    }
    return `${res.status} ${res.statusText}`;
  }

  let flashTimer = null;

  function show(message, kind) {
    flash.textContent = message;
    flash.className = `flash flash-${kind}`;
    flash.hidden = false;
    clearTimeout(flashTimer);
    // A success needs only a moment's notice; an error stays until the next action.
    if (kind === "ok") flashTimer = setTimeout(() => (flash.hidden = true), FLASH_MS);
  }

  // ---- Live refresh of #live

  let refreshTimer = null;
  let deferred = false;
  let lastFragment = null;
  let streamOpen = false;

  /** Throttled rather than debounced, so a steady stream of events cannot postpone the refresh for ever. */
  function scheduleRefresh() {
    if (refreshTimer === null) refreshTimer = setTimeout(refresh, REFRESH_MS);
  }

  /** The reader is typing in a field of #live (a scale count): replacing it would lose the edit. */
  function editing() {
    const el = document.activeElement;
    return el !== null && live.contains(el) && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }

  async function refresh() {
    refreshTimer = null;
    if (editing()) {
      deferred = true;
      return;
    }
    const url = new URL(location.href);
    url.searchParams.set("fragment", "1");
    let res;
    try {
      res = await api("GET", url.href);
    } catch {
      setLiveStatus("offline", "manager unreachable");
      return;
    }
    // A 404 is rendered too: it tells the reader the job or task is gone.
    if (!res.ok && res.status !== 404) return setLiveStatus("offline", await errorOf(res));
    const html = await res.text();
    if (html !== lastFragment) swap(html);
    lastFragment = html;
    if (streamOpen) setLiveStatus("live", "live");
  }

  /** Replaces #live, keeping what the reader was doing: focus, open <details>, sideways scroll of tables. */
  function swap(html) {
    const focused = live.contains(document.activeElement) ? selectorOf(document.activeElement) : null;
    const open = [...live.querySelectorAll("details[id][open]")].map((d) => d.id);
    const scrolled = [...live.querySelectorAll(".scroll")].map((s) => s.scrollLeft);
    live.innerHTML = html;
    for (const id of open) document.getElementById(id)?.setAttribute("open", "");
    live.querySelectorAll(".scroll").forEach((s, i) => (s.scrollLeft = scrolled[i] ?? 0));
    if (focused) live.querySelector(focused)?.focus();
    localizeTimes(live);
  }

  function selectorOf(el) {
    if (el.id) return `#${CSS.escape(el.id)}`;
    const href = el.getAttribute("href");
    return href ? `a[href="${CSS.escape(href)}"]` : null;
  }

  function setLiveStatus(state, text) {
    liveStatus.dataset.state = state;
    liveStatus.textContent = text;
  }

  /** `job:web`, `node:<id>`, `task:<id>` in data-watch; an empty list takes every event. */
  function matters(event) {
    const watch = (live.dataset.watch || "").split(" ").filter(Boolean);
    return watch.length === 0 || watch.some((w) => {
      const colon = w.indexOf(":");
      return event[w.slice(0, colon)] === w.slice(colon + 1);
    });
  }

  function connect() {
    const source = new EventSource("/v1/events");
    source.onopen = () => {
      streamOpen = true;
      setLiveStatus("live", "live");
      // Catch up with whatever happened while the page loaded or the stream was down.
      scheduleRefresh();
    };
    const onEvent = (message) => {
      try {
        if (matters(JSON.parse(message.data))) scheduleRefresh();
      } catch {
        // A malformed event is not worth breaking the page for.
      }
    };
    for (const type of ["job", "task", "node"]) source.addEventListener(type, onEvent);
    source.onerror = () => {
      streamOpen = false;
      setLiveStatus("offline", "reconnecting…");
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries by itself
      source.close();
      reconnect();
    };
  }

  /**
   * After the stream closed for good, which an EventSource cannot explain: ask it again with fetch,
   * which sees a 401 (and so asks for the token), and hang up once the answer's headers are in.
   */
  async function reconnect() {
    const probe = new AbortController();
    try {
      await api("GET", "/v1/events", undefined, probe.signal);
    } catch {
      // The manager is unreachable: the new stream below keeps retrying by itself.
    }
    probe.abort();
    setTimeout(connect, RECONNECT_MS);
  }

  // ---- Buttons and forms that call the API

  async function call(el, body) {
    if (el.dataset.busy) return;
    const [method, url] = el.dataset.api.split(" ");
    el.dataset.busy = "true";
    el.setAttribute("aria-busy", "true");
    try {
      const res = await api(method, url, body);
      if (res.ok) show(el.dataset.done, "ok");
      else show(await errorOf(res), "error");
    } catch (err) {
      show(`The manager did not answer: ${err.message}`, "error");
    } finally {
      delete el.dataset.busy;
      el.removeAttribute("aria-busy");
      scheduleRefresh();
    }
  }

  document.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-api]");
    if (!button) return;
    if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
    call(button, button.dataset.body ? JSON.parse(button.dataset.body) : undefined);
  });

  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-api]");
    if (!form) return;
    e.preventDefault();
    const body = {};
    for (const field of form.elements) {
      if (field.name) body[field.name] = field.type === "number" ? Number(field.value) : field.value;
    }
    call(form, body);
  });

  // ---- A task's logs, followed until the container's output ends

  async function followLogs(pre) {
    const status = document.getElementById("logs-status");
    status.textContent = "Following the container's output…";
    let res;
    try {
      res = await api("GET", pre.dataset.follow);
    } catch (err) {
      status.textContent = `The manager did not answer: ${err.message}`;
      return;
    }
    if (!res.ok) {
      status.textContent = await errorOf(res);
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.textContent = (pre.textContent + decoder.decode(next.value, { stream: true })).slice(-MAX_LOG_CHARS);
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    status.textContent = "The output ended: the container stopped.";
  }

  function localizeTimes(root) {
    for (const time of root.querySelectorAll("time[datetime]")) time.textContent = new Date(time.dateTime).toLocaleString();
  }

  live.addEventListener("focusout", () => {
    if (!deferred) return;
    deferred = false;
    scheduleRefresh();
  });
  const poll = Number(live.dataset.poll);
  if (poll > 0) setInterval(() => document.hidden || scheduleRefresh(), poll);
  const logs = document.getElementById("logs");
  if (logs) followLogs(logs);
  localizeTimes(document);
  connect();
})();

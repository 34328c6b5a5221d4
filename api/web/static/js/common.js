// What every app's pages share: the catalog, the JSON API, errors in plain words, times.
// Plain JavaScript, no build step; each page's own script uses window.App.
"use strict";
window.App = (() => {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  // Strings in scripts are msgids (Chinese); the page brings their translations.
  const _ = (message) => data.messages[message] || message;
  const $ = (id) => document.getElementById(id);
  // The four grades of the review (满意度评议), best first: every app names them alike.
  const RATINGS = { very_satisfied: _("非常满意"), satisfied: _("满意"), average: _("一般"), dissatisfied: _("不满意") };

  // Codes that are about one field of the sign-in form: their words go next to it.
  const CODE_FIELDS = { InvalidPhone: "phone", PhoneRequired: "phone", InvalidCode: "code" };

  // A failure a person can read: the API's stable code mapped through the catalog. What the
  // server got wrong is never put on the reader: a 5xx says the service is at fault, and a
  // request that got no answer blames the reader's network only when the phone is offline.
  const wordsFor = (status, code) => {
    if (code === "Network") return navigator.onLine === false ? data.error_offline : data.error_unreachable;
    if (data.errors[code]) return data.errors[code];
    return status >= 500 ? data.error_server : data.error_fallback;
  };
  class Failure extends Error {
    constructor(status, code, fields, retryAfter = 0) {
      super(wordsFor(status, code));
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
      this.fields = fields && fields.length ? fields : (CODE_FIELDS[code] ? [CODE_FIELDS[code]] : []);
    }
  }

  // Each app keeps its own sign-in for the life of the tab (access and refresh token). The
  // resident's outlives the tab (data.kept_sign_in): its refresh token is an HttpOnly cookie
  // the server sets and rotates, never seen here; each tab trades it for its own access token.
  const kept = Boolean(data.kept_sign_in);
  const tokens = {
    key: (kind = "token") => `fourorders.${data.app}.${kind}`,
    get: () => sessionStorage.getItem(tokens.key()),
    refresh: () => sessionStorage.getItem(tokens.key("refresh")),
    set: (access, refresh) => {
      sessionStorage.setItem(tokens.key(), access);
      if (refresh) sessionStorage.setItem(tokens.key("refresh"), refresh);
    },
    clear: () => { for (const kind of ["token", "refresh", "who"]) sessionStorage.removeItem(tokens.key(kind)); },
  };

  // An access token lasts minutes; a desk stays open all day. On a 401, trade the refresh token
  // for a new pair once and retry; if that fails too, the sign-in is over.
  let refreshing = null;
  function renew() {
    if (!kept && !tokens.refresh()) return Promise.resolve(false);
    // Tabs opened together must not send the same cookie twice (a reused one ends the
    // sign-in everywhere): one tab at a time trades it, the next sends its successor.
    const trade = () => exchange();
    refreshing = refreshing || (kept && navigator.locks ? navigator.locks.request("fourorders.refresh", trade) : trade())
      .finally(() => { refreshing = null; });
    return refreshing;
  }
  async function exchange() {
    const body = kept ? undefined : JSON.stringify({ refresh_token: tokens.refresh() });
    try {
      const res = await fetch("/api/auth/refresh", {
        method: "POST", headers: body ? { "content-type": "application/json" } : {}, body,
      });
      if (!res.ok) { tokens.clear(); return false; }
      const pair = await res.json();
      tokens.set(pair.access_token, pair.refresh_token);
      return true;
    } catch (err) { return false; }
  }

  async function api(method, path, body, headers = {}, retried = false) {
    const auth = tokens.get() ? { authorization: `Bearer ${tokens.get()}` } : {};
    const isForm = body instanceof FormData;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: { ...(isForm || body === undefined ? {} : { "content-type": "application/json" }), ...auth, ...headers },
        body: body === undefined ? undefined : (isForm ? body : JSON.stringify(body)),
      });
    } catch (err) {
      throw new Failure(0, "Network");
    }
    // Only a request that carried a token can have run out of time (a wrong code is a 401 too).
    if (res.status === 401 && !retried && auth.authorization && await renew()) {
      return api(method, path, body, headers, true);
    }
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      // A 422 lists the fields and rules it refused: pages mark those fields.
      const fields = Array.isArray(answer.detail) ? answer.detail.map((d) => (d.loc || []).slice(-1)[0]) : [];
      throw new Failure(res.status, answer.code || "", fields, Number(res.headers.get("retry-after")) || 0);
    }
    return answer;
  }

  // Words about one field sit next to it (an element "<id>-error"), and the field is marked
  // invalid; never colour alone. A message of null clears it. False when the page has no slot.
  function fieldError(id, message) {
    const input = $(id), slot = $(`${id}-error`);
    if (!slot) return false;
    slot.textContent = message || "";
    slot.hidden = !message;
    slot.setAttribute("role", "alert");
    if (input && input.matches("input, select, textarea")) {
      if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }
    slot.closest("fieldset")?.classList.toggle("invalid", Boolean(message));
    return true;
  }

  function clearErrors() {
    document.querySelectorAll(".field-error").forEach((slot) => fieldError(slot.id.replace(/-error$/, ""), null));
    $("error").hidden = true;
  }

  // An error for the reader: next to the fields it is about when the page has them (the first
  // one focused), else in the page's alert box.
  function showError(err) {
    clearErrors();
    if (!err) return;
    const message = err instanceof Failure ? err.message : String(err.message || err);
    const placed = (err.fields || []).filter((field) => fieldError(field, message));
    if (placed.length) {
      // The field itself, or the first choice of a group of them.
      const first = $(placed[0]);
      const target = first && first.matches("input, select, textarea")
        ? first : $(`${placed[0]}-error`).closest("fieldset")?.querySelector("input");
      if (target) target.focus();
      return;
    }
    const el = $("error");
    el.textContent = message;
    el.hidden = false;
    el.scrollIntoView({ block: "nearest" });
  }

  // The sign-in form of partials/sms_sign_in.html or partials/staff_sign_in.html: shown until
  // the reader is signed in, then onSignedIn runs (at once when they already are, in this tab
  // or, for the resident, by the kept sign-in).
  let after = null;
  let wired = false;
  const signedIn = async () => Boolean(tokens.get()) || renew();

  // quiet: a page that works before signing in (the service menu) asks only when it must.
  async function signIn(onSignedIn, { quiet = false } = {}) {
    wire();
    if (await signedIn()) { $("sign-in").hidden = true; showSignOut(); return onSignedIn(); }
    if (!quiet) { after = onSignedIn; $("sign-in").hidden = false; }
    return undefined;
  }

  // The sign-in form again, for a page that stays as it is (a filled form is kept): `then` runs
  // once the reader has signed in.
  function askSignIn(then) {
    wire();
    tokens.clear();
    after = then;
    $("sign-in").hidden = false;
    $("sign-in").scrollIntoView({ block: "start" });
    ($("phone") || $("username")).focus();
  }

  // 获取验证码 rests until the number may ask again, counting down, so nobody taps it twice.
  function restCodeButton(seconds) {
    const button = $("send-code");
    const label = _("获取验证码");
    let left = Math.max(1, Math.ceil(seconds));
    const tick = () => {
      if (left <= 0) { clearInterval(timer); button.textContent = label; button.disabled = false; return; }
      button.textContent = _("{n}秒后可重新获取").replace("{n}", left);
      left -= 1;
    };
    button.disabled = true;
    const timer = setInterval(tick, 1000);
    tick();
  }

  function wire() {
    if (wired) return;
    wired = true;
    const form = $("sign-in");
    const sms = Boolean($("send-code"));
    // A code is good until it expires or has been guessed wrong too often: until then the
    // reader is told to check the digits, not to get a new one.
    let codeLive = 0, wrongGuesses = 0;
    if (sms) {
      // Enter after the phone number asks for the code (it would submit an empty code).
      $("phone").addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { ev.preventDefault(); if (!$("send-code").disabled) $("send-code").click(); }
      });
      $("send-code").addEventListener("click", async () => {
        showError(null);
        const phone = $("phone").value.trim();
        if (!phone) { showError(Object.assign(new Error(_("请填写手机号")), { fields: ["phone"] })); return; }
        $("send-code").disabled = true;
        try {
          const sent = await api("POST", "/api/auth/sms-code", { phone });
          codeLive = Date.now() + sent.expires_in * 1000;
          wrongGuesses = 0;
          $("code-sent").hidden = false;
          $("code").focus();
          restCodeButton(sent.resend_in);
        } catch (err) {
          // Asked again too soon (another tab, a reload): wait out the rest, say nothing wrong.
          if (err.code === "RateLimited" && err.retryAfter) { restCodeButton(err.retryAfter); return; }
          showError(err);
          $("send-code").disabled = false;
        }
      });
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      const [path, body] = sms
        ? [kept ? "/api/auth/sms-login?cookie=true" : "/api/auth/sms-login", { phone: $("phone").value.trim(), code: $("code").value.trim() }]
        : ["/api/auth/login", { username: $("username").value.trim(), password: $("password").value }];
      try {
        const signed = await api("POST", path, body);
        tokens.set(signed.access_token, signed.refresh_token);
      } catch (err) {
        if (err.code === "InvalidCode" && Date.now() < codeLive && ++wrongGuesses < data.sms_code_attempts) {
          err.message = _("验证码不对，请核对短信里的6位数字再输一次。");
        }
        showError(err);
        return;
      }
      form.hidden = true;
      showSignOut();
      const next = after;
      after = null;
      if (next) await next();
    });
  }

  // Signing out, the same in every app: the sign-in ends on the server too (the kept cookie,
  // or the refresh token this tab holds), the tab forgets it, and the app starts again.
  function showSignOut() {
    const button = $("sign-out");
    if (!button || button.dataset.wired) return;
    button.dataset.wired = "1";
    button.hidden = false;
    button.addEventListener("click", signOut);
  }
  async function signOut() {
    const refresh_token = tokens.refresh();
    const ending = kept ? api("DELETE", "/api/auth/refresh")
      : refresh_token ? api("POST", "/api/auth/logout", { refresh_token }) : null;
    if (ending) await ending.catch(() => undefined);
    tokens.clear();
    sessionStorage.removeItem(tokens.key("draft"));
    location.assign(document.querySelector(".brand").getAttribute("href"));
  }

  // Times in the county's zone, to the minute, labelled ("12月1日 14:05 北京时间").
  const formatter = new Intl.DateTimeFormat(data.lang, {
    timeZone: data.timezone, month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const time = (iso) => (iso ? `${formatter.format(new Date(iso))} ${data.tz_label}` : "—");

  // "还剩 5小时12分" until a deadline, or the time since it passed.
  // Whole minutes, rounded towards the deadline's side: a deadline passed seconds ago reads
  // as overdue at once ("已超时 不到1分钟"), never as "还剩 0分钟".
  function countdown(iso, now = Date.now()) {
    const ms = new Date(iso).getTime() - now;
    const left = ms >= 0 ? Math.ceil(ms / 60000) : Math.floor(-ms / 60000);
    const h = Math.floor(left / 60), m = left % 60;
    const span = h ? _("{h}小时{m}分").replace("{h}", h).replace("{m}", m)
      : (left ? _("{m}分钟").replace("{m}", m) : _("不到1分钟"));
    return ms >= 0 ? _("还剩 {span}").replace("{span}", span) : _("已超时 {span}").replace("{span}", span);
  }

  // Refresh a view every few seconds while the page is visible (and at once when it shows again).
  // The stop it returns is for good: a hidden page pauses the timer, and coming back resumes
  // only one that was not stopped (a list reloaded with new filters stops its old poller).
  function every(ms, refresh) {
    let timer = null;
    const start = () => { if (!timer) timer = setInterval(refresh, ms); };
    const pause = () => { clearInterval(timer); timer = null; };
    const onVisibility = () => { if (document.hidden) pause(); else { refresh(); start(); } };
    document.addEventListener("visibilitychange", onVisibility);
    start();
    return () => { pause(); document.removeEventListener("visibilitychange", onVisibility); };
  }

  // One key per filled-in form, so a double click or a retry never makes two of anything.
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());

  // An order's number as people read it aloud: the month, then its place ("2612 0457").
  const spoken = (number) => (number ? `${number.slice(0, 4)} ${number.slice(4)}` : "");

  return {
    data, _, $, RATINGS, api, Failure, showError, fieldError, signIn, askSignIn, signedIn, signOut, time, countdown,
    every, tokens, newKey, spoken,
  };
})();

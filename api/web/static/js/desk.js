// What the staff desks share (call-center workbench, admin console): sign-in and sign-out,
// the "signed in as" control, building rows and elements, ticking countdowns, live refresh.
// Loaded after common.js by templates that extend desk.html.
"use strict";
window.Desk = (() => {
  const { _, $, api, showError, tokens } = App;

  // An order's status, what happened on its timeline and who did it, as staff read them.
  // The one vocabulary of statuses for staff (api/web/vocabulary.py), in the reader's language.
  const STATUS = App.data.statuses;
  const EVENTS = {
    submitted: _("提交求助"), dispatched: _("派单"), redispatched: _("改派"), open_call: _("发布抢单"),
    assigned: _("队长指派"), accepted: _("接单"), declined: _("拒单"), accept_timeout: _("未及时接单"),
    undispatchable: _("无人可派"), hurried: _("居民催办"), checked_in: _("到达"), checked_out: _("离开"),
    completed: _("服务完成"), reviewed: _("评价"), review_window_expired: _("评价期已过"),
    follow_up_created: _("等待回访"), follow_up_queued: _("转人工回访"), call_placed: _("回访电话拨出"),
    call_ended: _("回访电话结束"), followed_up: _("回访完成"), escalated: _("超时督办"),
    cancelled: _("取消"), closed: _("办结"), complaint: _("居民投诉"),
  };
  const ACTORS = {
    resident: _("居民"), admin: _("中心管理员"), call_center: _("回访坐席"), volunteer: _("志愿者"),
    leader: _("队长"), system: _("系统"), center: _("中心"),
  };

  // An element with properties (dataset and attributes by prefix) and children (text or nodes).
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "class") node.className = value;
      else if (key.startsWith("aria-") || key === "role" || key === "scope") node.setAttribute(key, value);
      else node[key] = value;
    }
    node.append(...children.filter((c) => c !== undefined && c !== null));
    return node;
  }

  // Replace a table body's rows: one <tr> per item, one cell per function (text or a node).
  // `key` names the row (data-id) so tests and scripts find it again after a refresh.
  function table(tbody, items, cells, { empty = _("暂无"), key = (item) => item.id } = {}) {
    if (!items.length) {
      const columns = tbody.closest("table").querySelectorAll("thead th").length || cells.length;
      tbody.replaceChildren(el("tr", { class: "empty" }, el("td", { colSpan: columns }, empty)));
      return;
    }
    tbody.replaceChildren(...items.map((item) => el(
      "tr", { dataset: { id: String(key(item)) } },
      ...cells.map((cell, i) => el(i ? "td" : "th", i ? {} : { scope: "row" }, cell(item) ?? "—")),
    )));
  }

  // A time for a table cell: county time, kept on one line, machine-readable.
  const when = (iso) => (iso ? el("time", { dateTime: iso }, App.time(iso)) : "—");

  // "29:58" or "1:02:03": a lease or a deadline to the second.
  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
  }

  // Every element with data-until="<iso>" shows the time left, ticking each second; when it
  // runs out it gets data-expired and fires an "expired" event once (the page decides what next).
  function tick() {
    const now = Date.now();
    for (const node of document.querySelectorAll("[data-until]")) {
      const left = new Date(node.dataset.until).getTime() - now;
      if (left > 0) {
        node.textContent = _("还剩 {t}").replace("{t}", clock(left));
        delete node.dataset.expired;
      } else if (!node.dataset.expired) {
        node.textContent = _("已到期");
        node.dataset.expired = "true";
        node.dispatchEvent(new CustomEvent("expired", { bubbles: true }));
      }
    }
  }
  function countdown(node, iso) {
    if (iso) node.dataset.until = iso; else { delete node.dataset.until; delete node.dataset.expired; node.textContent = ""; }
    tick();
  }
  setInterval(tick, 1000);

  // Run `refresh` now and every `ms` while the page is visible; a failed refresh says so
  // once and the next good one clears it.
  function live(ms, refresh) {
    let failed = false;
    const run = async () => {
      try {
        await refresh();
        if (failed) { showError(null); failed = false; }
      } catch (err) {
        if (err.status === 401) { signedOut(); return; }
        failed = true;
        showError(err);
      }
    };
    run();
    // No interval: shown once (a search someone typed is looked up, not polled).
    return ms ? App.every(ms, run) : () => undefined;
  }

  function signedOut() {
    tokens.clear();
    location.reload();
  }

  // Show the staff sign-in until the reader is signed in, then the desk (when their role may
  // use it: data-roles on #desk) and call onReady(me) with /api/me.
  function start(onReady) {
    const desk = $("desk");
    const roles = (desk.dataset.roles || "").split(" ").filter(Boolean);
    $("sign-in").addEventListener("submit", () => {
      sessionStorage.setItem(tokens.key("who"), $("username").value.trim());
    });
    return App.signIn(async () => {
      let me;
      try { me = await api("GET", "/api/me"); } catch (err) {
        if (err.status === 401) { signedOut(); return; }
        showError(err);
        return;
      }
      $("who-name").textContent = sessionStorage.getItem(tokens.key("who")) || _("工作人员 {id}").replace("{id}", me.staff_id ?? "");
      $("signed-in").hidden = false;
      $("sign-out").hidden = false;
      if (roles.length && !roles.some((r) => me.roles.includes(r))) { $("no-access").hidden = false; return; }
      desk.hidden = false;
      await onReady(me);
    });
  }

  // Every item of a paged list (``{items, total}``), page after page: a registry the desk
  // shows whole (staff, units) must not stop at its first page.
  async function everything(path, size = 200) {
    const items = [];
    for (;;) {
      const glue = path.includes("?") ? "&" : "?";
      const page = await api("GET", `${path}${glue}limit=${size}&offset=${items.length}`);
      items.push(...page.items);
      if (!page.items.length || items.length >= page.total) return items;
    }
  }

  // A file from the API (the exports) saved under the name the server gives it. It needs the
  // sign-in's token, which a plain link cannot carry; an expired token is renewed once.
  async function download(path, retried = false) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${tokens.get()}` } });
    if (res.status === 401 && !retried) { await api("GET", "/api/me"); return download(path, true); }
    if (!res.ok) {
      const answer = await res.json().catch(() => ({}));
      throw new App.Failure(res.status, answer.code || "");
    }
    const named = /filename\*=UTF-8''([^;]+)/.exec(res.headers.get("content-disposition") || "");
    const link = el("a", { href: URL.createObjectURL(await res.blob()), download: named ? decodeURIComponent(named[1]) : "" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  return { el, table, when, clock, countdown, live, start, everything, download, STATUS, EVENTS, ACTORS };
})();

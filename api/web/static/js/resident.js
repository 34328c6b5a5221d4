// The resident's pages: plain JavaScript over the JSON API, no build step (see common.js).
"use strict";
const Resident = (() => {
  const { _, $, api, showError, fieldError, time, countdown, tokens } = App;
  // The menu, its tiles and search, and the order's fields are shared with the staff's form.
  const { named, el, icon, menu } = OrderForm;
  const english = App.data.lang === "en";
  // The page refreshes itself every few seconds (the brief's ceiling is 5 s).
  const POLL_MS = 4000;

  const { RATINGS } = App;
  const STATUS = {
    pending: _("等待中心派单"), dispatched: _("已派单，等志愿者接单"), accepted: _("志愿者已接单，正在办理"),
    completed: _("已完成，请您评价"), reviewed: _("您已评价，等待中心回访"), closed: _("已办结"),
    cancelled: _("已取消"),
  };
  // An order's status in words: a closed order says 回访 only when the follow-up was done,
  // and never reads as settled while a complaint is open.
  function statusText(order) {
    if (order.complaint_open && ["closed", "reviewed", "completed"].includes(order.status)) {
      return order.status === "closed" ? _("已办结，投诉处理中") : STATUS[order.status] + _("（投诉处理中）");
    }
    if (order.status === "closed" && order.follow_up && order.follow_up.status === "done") return _("已回访，办结");
    return STATUS[order.status] || _("处理中");
  }

  // An expired sign-in sends the reader back to the sign-in form, then carries on.
  function whenSignedIn(start) {
    App.signIn(async () => {
      try { await start(); } catch (err) {
        if (signInAgain(err)) return;
        showError(err);
      }
    });
  }

  // A token that has expired, or an SMS link's (it opens one order, not the list): sign in.
  function signInAgain(err) {
    if (err.status !== 401 && err.status !== 403) return false;
    tokens.clear();
    location.reload();
    return true;
  }

  // --- Home: 我的求助 ------------------------------------------------------------------------

  async function home() {
    whenSignedIn(async () => {
      $("browse").hidden = true;
      $("home").hidden = false;
      const [{ items }, mine] = await Promise.all([menu(), api("GET", "/api/me/orders")]);
      $("mine-loading").hidden = true;
      $("mine-empty").hidden = mine.items.length > 0;
      $("mine").replaceChildren(...mine.items.map((order) => {
        const item = items.get(order.item_code);
        const status = el("span", { className: "status", textContent: STATUS[order.status] || "" });
        status.dataset.status = order.status;
        const link = el("a", { href: `/orders/${order.id}`, className: "order-card" },
          el("img", { src: icon(order.item_code, order.category_code), alt: "", width: 40, height: 40 }),
          el("span", { className: "order-text" },
            el("strong", { className: "order-service", textContent: item ? named(item) : _("服务项目") }),
            status,
            el("span", { className: "order-time", textContent: _("单号 {number} · 提交于 {time}").replace("{number}", App.spoken(order.number)).replace("{time}", time(order.submitted_at)) })));
        return el("li", {}, link);
      }));
    });
  }

  // --- The request form -------------------------------------------------------------------

  // What the reader has filled in stays in this tab until the order is made: a sign-in asked
  // at 提交求助 (or a reload) must not wipe it.
  const DRAFT = tokens.key("draft");
  const DRAFTED = ["reason", "township", "address", "resident_name", "village_id"];
  function saveDraft() {
    const picked = document.querySelector("input[name=item_code]:checked");
    const draft = { item_code: picked ? picked.value : "" };
    for (const name of DRAFTED) draft[name] = $(name).value;
    sessionStorage.setItem(DRAFT, JSON.stringify(draft));
  }
  async function restoreDraft() {
    let draft;
    try { draft = JSON.parse(sessionStorage.getItem(DRAFT) || "null"); } catch (err) { draft = null; }
    if (!draft) return;
    const radio = draft.item_code && document.querySelector(`input[name=item_code][value="${CSS.escape(draft.item_code)}"]`);
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    // What they typed goes back first: the villages are fetched after, and a fetch that
    // fails (the sign-in that lapsed) must not cost them the rest of the form.
    for (const name of ["reason", "address", "resident_name"]) $(name).value = draft[name] || "";
    await OrderForm.fillPlace({ township: draft.township, village_id: draft.village_id || null })
      .catch(() => undefined);
  }

  async function orderForm() {
    const submitAgain = () => $("order-form").requestSubmit();
    try {
      await OrderForm.wire({
        // Anyone may fill the form; signing in is asked at 提交求助, and the form is kept.
        ready: async () => {
          saveDraft();
          if (await App.signedIn()) return true;
          App.askSignIn(submitAgain);
          return false;
        },
        placed: (order) => { sessionStorage.removeItem(DRAFT); location.href = `/orders/${order.id}`; },
        // The sign-in ran out (and could not be renewed): sign in below, the form stays.
        failed: (err) => { if (err.status !== 401) return false; App.askSignIn(submitAgain); return true; },
      });
    } catch (err) { showError(err); return; }
    await restoreDraft();
    App.signIn(() => undefined, { quiet: true });
    $("order-form").addEventListener("input", (ev) => { if (ev.target.id !== "service-search") saveDraft(); });
    $("order-form").addEventListener("change", saveDraft);
  }

  // --- One order ----------------------------------------------------------------------------

  // Who acted, in words: the resident is "you"; a volunteer by display name; the center by name.
  const who = (actor) => (!actor ? "" : actor.kind === "resident" ? _("您") : actor.name || "");

  function stepText(e) {
    const to = e.volunteer ? e.volunteer.name : null;
    switch (e.type) {
      case "submitted": return _("提交了求助");
      case "dispatched": return to ? _("派单给{name}").replace("{name}", to) : _("已派单");
      case "redispatched": return to ? _("改派给{name}").replace("{name}", to) : _("已改派");
      case "assigned": return to ? _("指派给{name}").replace("{name}", to) : _("已指派志愿者");
      case "open_call": return _("发布抢单，请附近志愿者接单");
      case "accepted": return _("接单了");
      case "declined": case "accept_timeout": return _("志愿者没能接单，中心重新派单中");
      case "undispatchable": return _("暂时没有合适的志愿者，中心正在协调");
      case "hurried": return _("催办了");
      case "checked_in": return _("到达了");
      case "checked_out": return _("离开了");
      case "completed": {
        const parts = [_("完成了服务")];
        if (e.hours) parts.push(_("用时{h}小时").replace("{h}", e.hours));
        return parts.join("，") + (e.note ? `：${e.note}` : "");
      }
      case "reviewed": return (e.channel === "on_site" ? _("现场评价：{rating}") : _("评价：{rating}"))
        .replace("{rating}", RATINGS[e.rating] || "") + (e.note ? `（${e.note}）` : "");
      case "review_window_expired": return _("评价期已过，等待中心回访");
      case "escalated": return _("已超时，中心督办中");
      case "follow_up_created": case "follow_up_queued": return _("等待中心回访");
      case "call_placed": return _("回访电话已拨出");
      case "call_ended": return _("回访电话已结束");
      case "followed_up":
        if (e.outcome === "rating_corrected" || (e.review_rating && e.rating && e.review_rating !== e.rating)) {
          return _("回访时评价由“{from}”改为“{to}”").replace("{from}", RATINGS[e.review_rating] || "—").replace("{to}", RATINGS[e.rating] || "—");
        }
        if (e.outcome === "unreachable") return _("回访未能联系上您");
        if (e.outcome === "complaint") return _("回访时您提出了投诉");
        return e.rating ? _("回访确认评价：{rating}").replace("{rating}", RATINGS[e.rating]) : _("已回访");
      case "complaint": return _("投诉了，中心正在处理");
      case "cancelled": return _("取消了求助") + (e.reason ? `：${e.reason}` : "");
      case "closed": return _("已办结");
      default: return _("办理中");
    }
  }

  // The last of the six steps done, by status; the next one is where the order stands.
  const STEP_OF_STATUS = { pending: 0, dispatched: 1, accepted: 2, completed: 3, reviewed: 4, closed: 5 };

  function fact(name, value) {
    for (const node of document.querySelectorAll(`[data-fact=${name}]`)) node.hidden = value === null || value === "";
  }

  function ratingText(order) {
    if (!order.review_rating && !order.verified_rating) return "";
    if (order.rating_corrected) {
      return _("您评价“{from}”，回访时改为“{to}”").replace("{from}", RATINGS[order.review_rating]).replace("{to}", RATINGS[order.verified_rating]);
    }
    const given = RATINGS[order.review_rating || order.verified_rating];
    return order.verified_rating ? _("{rating}（回访已确认）").replace("{rating}", given) : given;
  }

  function render(order) {
    const set = (id, text) => { if ($(id).textContent !== text) $(id).textContent = text; };
    set("item", order.item_name);
    set("status", statusText(order));
    $("status").dataset.status = order.status;
    $("order").dataset.status = order.status;
    $("steps").hidden = order.status === "cancelled";
    const reached = STEP_OF_STATUS[order.status] ?? -1;
    $("steps").querySelectorAll("li").forEach((li, i) => {
      li.className = i <= reached ? "done" : (i === reached + 1 ? "current" : "todo");
      if (i === reached + 1) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    });
    set("number", App.spoken(order.number));
    set("submitted-at", time(order.submitted_at));
    // What they asked, in their own words, and where: what the volunteer comes for.
    fact("reason", order.reason);
    set("reason", order.reason || "");
    const where = [order.township, order.address].filter(Boolean).join(" ");
    fact("address", order.address ? where : null);
    set("address", where);
    complaints(order.complaints || []);
    // The deadline only while the work is still to do; a cancelled order has none.
    fact("due", order.due_at ? "due" : null);
    if (order.due_at) {
      set("due", time(order.due_at));
      set("countdown", _("（{left}）").replace("{left}", countdown(order.due_at) + (order.overdue ? _("，中心督办中") : "")));
      $("countdown").classList.toggle("late", Boolean(order.overdue));
    }
    const helper = [...order.events].reverse().find((e) => e.actor && e.actor.kind === "volunteer" && e.actor.name);
    const volunteer = ["accepted", "completed", "reviewed", "closed"].includes(order.status) && helper ? helper.actor.name : null;
    fact("volunteer", volunteer);
    if (volunteer) set("volunteer", volunteer);
    fact("note", order.completion_note);
    set("completion-note", order.completion_note || "");
    fact("hours", order.hours ? "h" : null);
    if (order.hours) set("hours", _("{h}小时").replace("{h}", order.hours));
    fact("cancel", order.status === "cancelled" ? "c" : null);
    set("cancel-reason", order.cancel_reason || _("（未填写）"));
    const rating = ratingText(order);
    fact("rating", rating);
    set("rating", rating);
    $("rating").classList.toggle("corrected", Boolean(order.rating_corrected));

    $("review-form").hidden = order.status !== "completed";
    $("hurry-box").hidden = !["pending", "dispatched", "accepted"].includes(order.status);
    $("cancel-box").hidden = !["pending", "dispatched"].includes(order.status);
    $("complaint-box").hidden = order.status === "cancelled" || order.complaint_open;
    $("complaint-pending").hidden = !order.complaint_open;

    const items = order.events.map((e) => {
      const li = el("li", {}, el("time", { dateTime: e.at, textContent: time(e.at) }));
      const by = who(e.actor);
      // Chinese runs on without a space ("王志愿者接单了"); English needs one.
      if (by) li.append(el("strong", { className: "who", textContent: by }), english ? " " : "");
      li.append(stepText(e));
      li.dataset.event = e.type;
      return li;
    });
    const signature = order.events.map((e) => e.type + e.at).join("|");
    if ($("timeline").dataset.signature !== signature) {
      $("timeline").replaceChildren(...items.reverse());
      $("timeline").dataset.signature = signature;
    }
    photos(order);
  }

  // Each complaint with what they said, and, once the center has settled it, what was done.
  function complaints(list) {
    $("complaints").hidden = !list.length;
    const signature = JSON.stringify(list);
    if ($("complaint-list").dataset.signature === signature) return;
    $("complaint-list").dataset.signature = signature;
    $("complaint-list").replaceChildren(...list.map((c) => {
      const li = el("li", { className: "complaint" },
        el("p", {}, el("strong", { textContent: _("{time} 您投诉：").replace("{time}", time(c.made_at)) }), c.text || _("（电话回访时提出）")));
      li.dataset.status = c.status;
      li.append(c.status === "resolved"
        ? el("p", { className: "resolution" }, el("strong", { textContent: _("{time} 中心处理结果：").replace("{time}", time(c.resolved_at)) }), c.resolution || "")
        : el("p", { className: "muted", textContent: _("中心正在处理，会联系您。") }));
      return li;
    }));
  }

  // Photos come with the bearer token, so they are fetched and shown from blob URLs.
  const shownPhotos = new Set();
  async function photos(order) {
    const box = $("photos");
    box.hidden = !order.photos.length;
    for (const photo of order.photos) {
      if (shownPhotos.has(photo.photo_id)) continue;
      shownPhotos.add(photo.photo_id);
      try {
        const res = await fetch(photo.thumbnail_url, { headers: { authorization: `Bearer ${tokens.get()}` } });
        if (!res.ok) throw new Error(String(res.status));
        const img = el("img", { src: URL.createObjectURL(await res.blob()), alt: _("志愿者拍的服务照片") });
        box.append(img);
      } catch (err) { shownPhotos.delete(photo.photo_id); }
    }
  }

  // A form that opens under its button and closes again ("不取消了").
  function toggle(openId, formId, keepId) {
    const open = (yes) => {
      $(formId).hidden = !yes;
      $(openId).hidden = yes;
      $(openId).setAttribute("aria-expanded", String(yes));
      if (yes) $(formId).querySelector("input, textarea").focus(); else $(openId).focus();
    };
    $(openId).addEventListener("click", () => open(true));
    $(keepId).addEventListener("click", () => open(false));
    return open;
  }

  function say(message) {
    $("notice").textContent = message;
    $("notice").hidden = !message;
  }

  async function orderPage() {
    const id = location.pathname.split("/").filter(Boolean).pop();
    const link = new URLSearchParams(location.search).get("t");
    // Our SMS link carries a code for this one order: the bearer token is made from both.
    if (link) { tokens.set(`ol1.${id}.${link}`); history.replaceState(null, "", location.pathname); }
    let stop = null;
    let failed = false;
    let shown = null;

    async function refresh() {
      let order;
      try {
        order = await api("GET", `/api/orders/${id}`);
      } catch (err) {
        if (err.code === "NotFound") { missing(); return; }
        if (err.status === 401) { tokens.clear(); location.reload(); return; }
        showError(err); failed = true; return;
      }
      // A failed read, or a refusal about a step the order has since left, is old news.
      if (failed || (shown && shown !== order.status)) { showError(null); failed = false; }
      shown = order.status;
      $("loading").hidden = true;
      $("order").hidden = false;
      render(order);
      // Nothing changes any more once the order is over (a complaint still may be settled).
      if (stop && order.status === "cancelled") { stop(); stop = null; }
    }
    function missing() {
      if (stop) { stop(); stop = null; }
      $("loading").hidden = true;
      $("order").hidden = true;
      $("missing").hidden = false;
    }
    // A command answers with the order as it now is: the page shows that at once.
    async function command(button, path, body, done) {
      showError(null); say("");
      button.disabled = true;
      try {
        const order = await api("POST", `/api/orders/${id}/${path}`, body);
        render(order);
        if (done) done(order);
      } catch (err) {
        if (err.status === 401) { tokens.clear(); location.reload(); return; }
        showError(err);
      } finally { button.disabled = false; }
    }

    $("review-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const picked = document.querySelector("input[name=rating]:checked");
      if (!picked) { showError(Object.assign(new Error(_("请选择满意程度")), { fields: ["rating"] })); return; }
      command($("review-submit"), "review", { rating: picked.value, comment: $("comment").value.trim() || null },
        () => say(_("谢谢您的评价！")));
    });
    document.querySelectorAll("input[name=rating]").forEach((r) => r.addEventListener("change", () => fieldError("rating", null)));

    $("hurry").addEventListener("click", () => command($("hurry"), "hurry", {},
      () => say(_("已催办，中心会尽快安排。"))));

    const cancelForm = toggle("cancel-open", "cancel-form", "cancel-keep");
    $("cancel-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const picked = document.querySelector("input[name=cancel-pick]:checked");
      const extra = $("cancel_reason").value.trim();
      const reason = [picked ? picked.value : "", extra].filter(Boolean).join("；");
      if (!reason) {
        showError(Object.assign(new Error(_("请选一个原因，或写一下为什么取消")), { fields: ["cancel_reason"] }));
        return;
      }
      command($("cancel-submit"), "cancel", { reason }, () => { cancelForm(false); say(_("求助已取消。")); });
    });

    const complaintForm = toggle("complaint-open", "complaint-form", "complaint-keep");
    $("complaint-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("text").value.trim();
      if (!text) { showError(Object.assign(new Error(_("请写一下遇到了什么问题")), { fields: ["text"] })); return; }
      command($("complaint-submit"), "complaint", { text }, () => {
        complaintForm(false);
        say(_("投诉已提交，中心会尽快联系您。"));
      });
    });

    if (!tokens.get()) $("loading").hidden = true;  // the sign-in form shows instead
    whenSignedIn(async () => {
      $("loading").hidden = false;
      stop = App.every(POLL_MS, refresh);
      await refresh();
    });
  }

  return { home, orderForm, orderPage };
})();
// Each page names what it is (data-page); scripts stay in files, as the CSP demands.
({ home: Resident.home, form: Resident.orderForm, order: Resident.orderPage }[document.body.dataset.page] || (() => null))();

// The resident's pages: plain JavaScript over the JSON API, no build step (see common.js).
"use strict";
const Resident = (() => {
  const { _, $, api, showError, time, tokens } = App;
  const STATUS = {
    pending: _("待派单"), dispatched: _("已派单"), accepted: _("志愿者已接单"),
    completed: _("已办结，请评价"), reviewed: _("已评价，待回访"), closed: _("已回访，办结"),
    cancelled: _("已取消"),
  };
  const EVENTS = {
    submitted: _("已提交求助"), dispatched: _("中心已派单"), accepted: _("志愿者已接单"),
    declined: _("志愿者无法接单，重新派单中"), accept_timeout: _("未及时接单，重新派单中"),
    completed: _("服务已完成"), reviewed: _("您已评价"), review_window_expired: _("评价期已过"),
    escalated: _("已超时，中心督办中"), follow_up_created: _("等待中心回访"),
    followed_up: _("中心已回访"), closed: _("已办结"), cancelled: _("已取消"),
    redispatched: _("中心已改派"), open_call: _("中心已发布抢单"), assigned: _("队长已指派志愿者"),
    undispatchable: _("暂无合适志愿者，中心协调中"), call_placed: _("回访电话已拨出"),
    call_ended: _("回访电话已结束"), follow_up_queued: _("转人工回访"),
  };
  const RATINGS = { very_satisfied: _("非常满意"), satisfied: _("满意"), average: _("一般"), dissatisfied: _("不满意") };
  async function orderForm() {
    App.signIn(() => { $("order-form").hidden = false; });
    let catalog, townships;
    try {
      [catalog, townships] = await Promise.all([api("GET", "/api/catalog"), api("GET", "/api/townships")]);
    } catch (err) { showError(err); return; }
    for (const category of catalog) {
      const group = document.createElement("optgroup");
      group.label = category.name;
      for (const item of category.items) group.append(new Option(item.name, item.code));
      $("item_code").append(group);
    }
    for (const t of townships) $("township").append(new Option(t.name, t.name));
    // One key per filled-in form: a double click or a retry never makes two orders,
    // while an edited form (or one restored by Back) is a new request with a new key.
    let key = App.newKey();
    $("order-form").addEventListener("input", () => { key = App.newKey(); $("submit").disabled = false; });
    window.addEventListener("pageshow", (ev) => { if (ev.persisted) { key = App.newKey(); $("submit").disabled = false; } });
    $("order-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      const body = {};
      for (const name of ["item_code", "reason", "township", "address", "resident_name"]) {
        body[name] = $(name).value.trim();
        if (!body[name]) { showError(new Error(_("请填写{field}").replace("{field}", document.querySelector(`label[for=${name}]`).textContent.trim()))); $(name).focus(); return; }
      }
      $("submit").disabled = true;
      try {
        const order = await api("POST", "/api/orders", body, { "Idempotency-Key": key });
        location.href = `/orders/${order.id}`;
      } catch (err) { showError(err); $("submit").disabled = false; }
    });
  }

  async function orderPage() {
    const id = location.pathname.split("/").filter(Boolean).pop();
    const link = new URLSearchParams(location.search).get("t");
    // Our SMS link carries a code for this one order: the bearer token is made from both.
    if (link) { tokens.set(`ol1.${id}.${link}`); history.replaceState(null, "", location.pathname); }
    let timer = null;
    let loadFailed = false;
    async function refresh() {
      try {
        const order = await api("GET", `/api/orders/${id}`);
        if (loadFailed) { showError(null); loadFailed = false; }
        if (["closed", "cancelled"].includes(order.status) && timer) { clearInterval(timer); timer = null; }
        $("status").textContent = STATUS[order.status] || order.status;
        $("status").dataset.status = order.status;
        $("item").textContent = order.item_name;
        $("deadline").textContent = time(order.deadline_at) + (order.overdue ? _("（已超时，中心督办中）") : "");
        $("rating").textContent = order.rating ? RATINGS[order.rating] : "—";
        $("review-form").hidden = order.status !== "completed";
        $("timeline").replaceChildren(...order.timeline.map((e) => {
          const li = document.createElement("li");
          const when = document.createElement("time");
          when.textContent = time(e.at);
          li.append(when, EVENTS[e.event] || e.event);
          li.dataset.event = e.event;
          return li;
        }));
      } catch (err) { showError(err); loadFailed = true; }
    }
    $("review-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const picked = document.querySelector("input[name=rating]:checked");
      if (!picked) { showError(new Error(_("请选择满意程度"))); return; }
      $("review-submit").disabled = true;
      try {
        await api("POST", `/api/orders/${id}/review`, { rating: picked.value, comment: $("comment").value.trim() || null });
        showError(null);
        await refresh();
      } catch (err) { showError(err); }
      $("review-submit").disabled = false;
    });
    timer = setInterval(refresh, 5000);
    await refresh();
  }

  return { orderForm, orderPage };
})();
// Each page names what it is (data-page); scripts stay in files, as the CSP demands.
if (document.body.dataset.page === "order") Resident.orderPage(); else Resident.orderForm();

// The call-center workbench: the follow-up queue (live), a claim with its lease ticking, the
// call script, the calls so far, the resident's contact (only for the task this agent holds)
// and the result form. Everything goes through /api/follow-ups.
"use strict";
(() => {
  const { _, $, api, showError, fieldError } = App;
  const { el, table, when, countdown, live, start, EVENTS, ACTORS } = Desk;

  const REASONS = {
    dissatisfied: [_("居民不满意"), "urgent"],
    staff_requested: [_("要求人工"), "high"],
    attempts_exhausted: [_("多次未接通"), "normal"],
    call_impossible: [_("无法自动拨打"), "normal"],
    no_automated_call: [_("未自动回访"), "quiet"],
  };
  const { RATINGS } = App;
  const CALL_OUTCOMES = {
    rated: _("已按键评价"), staff_requested: _("要求人工"), no_input: _("接通未按键"),
    "no-answer": _("无人接听"), busy: _("占线"), failed: _("拨打失败"), machine: _("语音信箱"),
    lost: _("没有回执"),
  };
  const KEYS = { 1: RATINGS.very_satisfied, 2: RATINGS.satisfied, 3: RATINGS.average, 4: RATINGS.dissatisfied, 9: _("要求人工") };
  const METHODS = { phone: _("电话"), home_visit: _("入户"), field_visit: _("实地查看") };
  const OUTCOMES = {
    confirmed: _("确认评价"), rating_corrected: _("更正评价"), complaint: _("居民投诉"), unreachable: _("联系不上"),
  };
  const day = new Intl.DateTimeFormat(App.data.lang, { timeZone: App.data.timezone, month: "long", day: "numeric" });

  let items = {};  // catalog item code → name (the queue lists codes)
  let current = null;  // the task this agent holds and works on: its detail
  // Bumped whenever the task on screen changes: a queue read that was asked for before then
  // says nothing reliable about it (it might close a task just claimed), so it is dropped.
  let epoch = 0;

  const reasonChip = (reason) => {
    const [label, level] = REASONS[reason] || [_("待回访"), "quiet"];
    return el("span", { class: `chip ${level}`, dataset: { reason: reason || "" } }, label);
  };
  const say = (template, values) => Object.entries(values).reduce((s, [k, v]) => s.replace(`{${k}}`, v), template);

  // --- the queue ---------------------------------------------------------------------------
  function actionCell(task) {
    if (task.mine) {
      if (current && current.id === task.id) return el("span", { class: "chip normal" }, _("处理中"));
      return el("button", { type: "button", class: "secondary", dataset: { open: task.id } }, _("继续处理"));
    }
    if (task.claimable) return el("button", { type: "button", dataset: { claim: task.id } }, _("认领"));
    return el("span", { class: "chip quiet", dataset: { claimedBy: task.claimed_by } }, _("其他话务员处理中"));
  }

  async function refreshQueue() {
    const asked = epoch;
    const page = await api("GET", "/api/follow-ups?status=open&limit=100");
    if (asked !== epoch) return;
    $("queue-count").textContent = say(_("共 {n} 条"), { n: page.total });
    table($("queue-rows"), page.items, [
      (t) => reasonChip(t.queue_reason),
      (t) => App.spoken(t.order_number),
      (t) => items[t.item_code] || t.item_code,
      (t) => t.township,
      (t) => (t.review_rating ? RATINGS[t.review_rating] : _("未评价")),
      (t) => say(_("{n} 次"), { n: t.call_attempts }),
      (t) => when(t.queued_at || t.created_at),
      actionCell,
    ], { empty: _("队列是空的，所有回访都已处理。") });
    const held = page.items.filter((t) => t.mine);
    if (current) {
      const row = held.find((t) => t.id === current.id);
      // Our lease ran out or the task left the queue: its contact leaves the screen too.
      if (!row) { closeTask(_("认领已到期，这条回访已退回队列。")); return; }
      countdown($("lease"), row.claim_expires_at);
      $("queue-rows").querySelector(`tr[data-id="${current.id}"]`)?.setAttribute("aria-current", "true");
    } else if (held.length) {
      await openTask(held[0].id);
    }
  }

  $("queue-rows").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button");
    if (!button) return;
    showError(null);
    button.disabled = true;
    try {
      const id = button.dataset.claim
        ? (await api("POST", `/api/follow-ups/${button.dataset.claim}/claim`)).id
        : Number(button.dataset.open);
      closeTask(null);
      await openTask(id);
      // On a tablet the task is below the queue: take the reader (and their focus) there.
      $("task-title").focus();
    } catch (err) { showError(err); }
    await refreshQueue().catch(showError);
  });

  // --- the task held ---------------------------------------------------------------------
  // The script follows what the resident actually said: their last word (a key pressed on
  // the automated call) comes before an older online review, which is then only recalled,
  // never read back for them to confirm.
  function scriptLines(d, order) {
    const lines = [say(_("您好，我是县志愿服务中心的回访员，请问是{name}吗？"), { name: d.resident_name || _("居民") })];
    const served = d.completed_at ? day.format(new Date(d.completed_at)) : _("前几天");
    const service = d.item_name;
    lines.push(d.volunteer_name
      ? say(_("{when}，{volunteer}为您提供了“{service}”服务，想耽误您一分钟做个回访。"), { when: served, volunteer: d.volunteer_name, service })
      : say(_("{when}，我们的志愿者为您提供了“{service}”服务，想耽误您一分钟做个回访。"), { when: served, service }));
    const review = d.review_rating && RATINGS[d.review_rating];
    const comment = reviewComment(order);
    // Only 不满意 on the call reaches a person (other grades close the order by themselves).
    const unhappy = d.queue_reason === "dissatisfied" || d.call_rating === "dissatisfied";
    if (unhappy) {
      const pressed = RATINGS.dissatisfied;
      lines.push(review
        ? say(_("您在回访电话里选了“{pressed}”，之前在网上评的是“{review}”。能和我说说哪里没做好吗？我们一定改进。"), { pressed, review })
        : say(_("您在回访电话里选了“{pressed}”，能和我说说哪里没做好吗？我们一定改进。"), { pressed }));
    } else if (d.queue_reason === "staff_requested") {
      lines.push(_("您在回访电话里选择了人工服务，请问有什么需要我们帮忙的？"));
    }
    if (d.open_complaint) lines.push(_("您反映的问题我们已经转给中心处理，今天您还想补充什么吗？"));
    if (unhappy || !review) {
      lines.push(_("请问您对这次服务满意吗？非常满意、满意、一般，还是不满意？"));
    } else {
      lines.push(comment
        ? say(_("您给这次服务的评价是“{rating}”，还留言说“{comment}”，请问是这样吗？"), { rating: review, comment })
        : say(_("您给这次服务的评价是“{rating}”，请问是这样吗？"), { rating: review }));
    }
    lines.push(say(_("谢谢您！有需要随时拨打服务热线{hotline}。"), { hotline: App.data.hotline }));
    return lines.map((line) => el("p", {}, line));
  }

  // The resident's own words with their review, when they wrote some.
  const reviewComment = (order) => {
    const reviewed = order && [...order.timeline].reverse().find((e) => e.event === "reviewed");
    return (reviewed && reviewed.note) || "";
  };

  function actorText(e, d) {
    const [kind] = String(e.actor || "").split(":");
    if (kind === "volunteer" && d.volunteer_name) return d.volunteer_name;
    return ACTORS[kind] || kind;
  }

  function fillStory(d, order) {
    $("r-rating").textContent = d.review_rating ? RATINGS[d.review_rating] : _("未评价");
    $("r-comment").textContent = reviewComment(order) || _("没有留言");
    $("r-call").textContent = d.call_rating ? RATINGS[d.call_rating] : _("没有按键评价");
    $("t-complaint").hidden = !d.open_complaint;
    $("complaint-text").textContent = d.open_complaint
      ? say(_("{when}，{who}：“{text}”"), {
        when: App.time(d.open_complaint.created_at),
        who: d.open_complaint.source === "resident" ? _("居民在网上投诉") : _("回访时记录的投诉"),
        text: d.open_complaint.text || "—",
      }) : "";
    $("t-timeline").replaceChildren(...(order ? order.timeline : []).map((e) => el(
      "li", { dataset: { event: e.event } },
      el("time", { dateTime: e.at }, App.time(e.at)),
      el("strong", {}, EVENTS[e.event] || e.event), " · ", actorText(e, d),
      e.note ? el("span", { class: "note" }, ` “${e.note}”`) : null,
    )));
  }

  // On a call confirming the review, 1 meant that rating (and 2 opened the usual menu, whose
  // keys are the usual grades): what a rated call meant is the rating it brought.
  function keyText(c, d) {
    if (c.confirm_rating && c.outcome === "rated" && c.attempt === d.call_attempts && d.call_rating) return RATINGS[d.call_rating];
    if (c.confirm_rating && c.digits === "1") return RATINGS[c.confirm_rating];
    return KEYS[c.digits] || _("无效按键");
  }

  function fillTask(d, order) {
    $("t-item").textContent = d.item_name;
    $("t-number").textContent = App.spoken(d.order_number);
    $("t-reason").replaceChildren(reasonChip(d.queue_reason));
    countdown($("lease"), d.claim_expires_at);
    $("c-name").textContent = d.resident_name || "—";
    $("c-phone").textContent = d.resident_phone;
    $("c-phone").href = `tel:${d.resident_phone}`;
    $("c-address").textContent = d.address || "—";
    $("script").replaceChildren(...scriptLines(d, order));
    fillStory(d, order);
    table($("call-rows"), d.calls, [
      (c) => String(c.attempt),
      (c) => when(c.placed_at),
      (c) => CALL_OUTCOMES[c.outcome] || (c.state === "ended" ? _("已结束") : _("进行中")),
      (c) => (c.digits ? `${c.digits}（${keyText(c, d)}）` : "—"),
    ], { empty: _("没有拨打过自动回访电话。"), key: (c) => c.attempt });
    $("result-form").reset();
    ruleHints();
  }

  async function openTask(id) {
    const detail = await api("GET", `/api/follow-ups/${id}`);
    if (!detail.mine) return;  // never show a task (or its contact) we do not hold
    const order = await api("GET", `/api/orders/${detail.order_id}`);
    epoch += 1;
    current = detail;
    fillTask(detail, order);
    $("task-notice").hidden = true;
    $("task-empty").hidden = true;
    $("task-body").hidden = false;
  }

  // Off the screen with the task: the contact is cleared, not merely hidden.
  function closeTask(notice) {
    epoch += 1;
    current = null;
    $("task-body").hidden = true;
    $("task-empty").hidden = false;
    countdown($("lease"), null);
    for (const id of ["c-name", "c-phone", "c-address", "script", "t-timeline", "complaint-text", "r-comment"]) $(id).replaceChildren();
    $("c-phone").removeAttribute("href");
    $("task-notice").textContent = notice || "";
    $("task-notice").hidden = !notice;
  }

  $("lease").addEventListener("expired", () => {
    if (current) closeTask(_("认领已到期，这条回访已退回队列。"));
    refreshQueue().catch(showError);
  });

  async function act(button, fn) {
    showError(null);
    button.disabled = true;
    try { await fn(); } catch (err) { showError(err); }
    button.disabled = false;
    await refreshQueue().catch(showError);
  }
  $("renew").addEventListener("click", (ev) => act(ev.currentTarget, async () => {
    const task = await api("POST", `/api/follow-ups/${current.id}/claim`);
    countdown($("lease"), task.claim_expires_at);
  }));
  $("release").addEventListener("click", (ev) => act(ev.currentTarget, async () => {
    await api("POST", `/api/follow-ups/${current.id}/release`);
    closeTask(_("已退回队列，其他话务员可以认领。"));
  }));

  // --- the result --------------------------------------------------------------------------
  const chosen = (name) => document.querySelector(`input[name=${name}]:checked`)?.value || null;
  // The rating is needed to correct one, or when the resident never rated the service
  // (unless they could not be reached at all).
  function ratingNeeded(outcome) {
    return outcome === "rating_corrected" || (outcome !== "unreachable" && !(current && current.review_rating));
  }
  function ruleHints() {
    const outcome = chosen("outcome");
    for (const name of ["method", "outcome"]) if (chosen(name)) fieldError(name, null);
    $("rating-field").hidden = !outcome || outcome === "unreachable" || (outcome === "confirmed" && current && current.review_rating);
    $("rating-label").classList.toggle("required", ratingNeeded(outcome));
    $("rating").required = ratingNeeded(outcome);
    $("rating-hint").textContent = outcome === "rating_corrected" ? _("居民改口时，选他现在说的满意程度。")
      : ratingNeeded(outcome) ? _("居民没有评价过，请按他电话里说的选。")
        : _("居民电话里说的满意程度（选填）。");
    $("notes-label").classList.toggle("required", outcome === "complaint");
    $("notes").required = outcome === "complaint";
    $("notes-hint").textContent = outcome === "complaint"
      ? _("写明居民反映的问题，投诉会转给中心管理员处理。")
      : _("居民说的其他情况（选填）。");
  }
  $("result-form").addEventListener("change", ruleHints);

  $("result-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showError(null);
    for (const id of ["rating", "notes"]) $(id).removeAttribute("aria-invalid");
    const outcome = chosen("outcome");
    // Nothing is chosen for the agent: a dissatisfied call is never confirmed by accident.
    const unchosen = [["method", _("请选择回访方式。")], ["outcome", _("请选择回访结论。")]].filter(([name]) => !chosen(name));
    if (unchosen.length) {
      for (const [name, message] of unchosen) fieldError(name, message);
      document.querySelector(`input[name=${unchosen[0][0]}]`).focus();
      return;
    }
    const body = { method: chosen("method"), outcome };
    const rating = $("rating").value;
    if (!$("rating-field").hidden && rating) body.rating = rating;
    if (ratingNeeded(outcome) && !rating) {
      $("rating").setAttribute("aria-invalid", "true");
      showError(new Error(_("请选择满意程度。")));
      $("rating").focus();
      return;
    }
    const notes = $("notes").value.trim();
    if (notes) body.notes = notes;
    if (outcome === "complaint" && !notes) {
      $("notes").setAttribute("aria-invalid", "true");
      showError(new Error(_("请写明居民投诉的内容。")));
      $("notes").focus();
      return;
    }
    $("submit-result").disabled = true;
    try {
      await api("POST", `/api/follow-ups/${current.id}/result`, body);
      closeTask(outcome === "complaint"
        ? _("回访结果已记录，投诉已转给中心管理员处理。")
        : _("回访结果已记录，这张单子已办结。"));
    } catch (err) {
      showError(err);
      for (const field of err.fields || []) $(field)?.setAttribute("aria-invalid", "true");
    }
    $("submit-result").disabled = false;
    await Promise.all([refreshQueue(), refreshHandled()]).catch(showError);
  });

  // --- what this agent settled -----------------------------------------------------------
  async function refreshHandled() {
    const page = await api("GET", "/api/follow-ups?status=done&mine=true&limit=50");
    $("handled-count").textContent = say(_("共 {n} 条"), { n: page.total });
    table($("handled-rows"), page.items, [
      (t) => App.spoken(t.order_number),
      (t) => items[t.item_code] || t.item_code,
      (t) => METHODS[t.method] || "—",
      (t) => OUTCOMES[t.outcome] || "—",
      (t) => (t.rating ? RATINGS[t.rating] : "—"),
      (t) => when(t.done_at),
    ], { empty: _("您还没有办结过回访。") });
  }

  start(async () => {
    try {
      const catalog = await api("GET", "/api/catalog");
      for (const category of catalog) for (const item of category.items) items[item.code] = item.name;
    } catch (err) { showError(err); }
    live(4000, refreshQueue);
    live(0, refreshHandled);
  });
})();

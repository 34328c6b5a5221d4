// The volunteer's app: inbox, one order from offer to on-site review, the service record.
// Plain JavaScript over the JSON API (common.js), no build step; installable (sw.js).
"use strict";
const Volunteer = (() => {
  const { _, $, api, showError, time, countdown, tokens } = App;
  const POLL_MS = 4000;
  const STATUS = {
    pending: _("待派单"), dispatched: _("等待接单"), accepted: _("已接单，去服务"),
    completed: _("已完成，待居民评价"), reviewed: _("居民已评价，待中心回访"), closed: _("已回访，办结"),
    cancelled: _("已取消"),
  };
  const EVENTS = {
    submitted: _("居民提交求助"), dispatched: _("中心派单"), redispatched: _("中心改派"),
    open_call: _("中心发布抢单"), assigned: _("队长指派"), accepted: _("已接单"),
    declined: _("志愿者推辞"), accept_timeout: _("未及时接单，退回中心"), undispatchable: _("暂无合适志愿者"),
    hurried: _("居民催办"), checked_in: _("到达"), checked_out: _("离开"), completed: _("服务完成"),
    reviewed: _("居民评价"), review_window_expired: _("评价期已过"), follow_up_created: _("等待中心回访"),
    follow_up_queued: _("转人工回访"), call_placed: _("回访电话已拨出"), call_ended: _("回访电话已结束"),
    followed_up: _("中心已回访"), escalated: _("已超时，中心督办"), cancelled: _("已取消"), closed: _("已办结"),
    complaint: _("居民投诉"),
  };
  const { RATINGS } = App;
  const REVIEW_CHANNELS = { on_site: _("现场填写"), online: _("居民在手机上评价") };

  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  };
  // Messages with {placeholders}: whole sentences in the catalog, words put in here.
  const fill = (message, values) => message.replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
  const hours = (h) => fill(_("{h}小时"), { h });
  // A Chinese mobile as people write and read it out: "138 0013 8000"; others as stored.
  const phoneText = (e164) => {
    const parts = /^\+86(1\d{2})(\d{4})(\d{4})$/.exec(e164 || "");
    return parts ? parts.slice(1).join(" ") : e164 || "";
  };
  const rated = (rating, channel) => fill(_("{rating}（{channel}）"), { rating: RATINGS[rating], channel: REVIEW_CHANNELS[channel] || "" });
  // Screen readers hear what changed, not every poll's redraw.
  const announce = (text) => { if ($("live").textContent !== text) $("live").textContent = text; };

  // Installable: the shell works on a weak signal; registration failing must not break the page.
  function install() {
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/volunteer/sw.js", { scope: "/volunteer/" }).catch(() => {});
  }

  // Who is signed in now. Roles are fixed in a token: an application approved since the
  // sign-in shows once the refresh token is traded (the server looks the phone up afresh).
  async function whoAmI() {
    const me = await api("GET", "/api/me");
    const refresh_token = tokens.refresh();
    if (me.volunteer_id || !refresh_token) return me;
    const pair = await api("POST", "/api/auth/refresh", { refresh_token });
    tokens.set(pair.access_token, pair.refresh_token);
    return api("GET", "/api/me");
  }

  // Who is signed in; a resident who is no volunteer is told where to apply.
  async function volunteer() {
    const me = await whoAmI();
    if (!me.volunteer_id) { $("not-volunteer").hidden = false; return null; }
    return me;
  }

  // The application (/volunteer/apply): a signed-in resident says who they are, where they
  // live, what they can do (by the menu's names) and when; an admin approves it in the console.
  const WEEKDAYS = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")];
  function choice(name, value, label) {
    const box = el("input");
    Object.assign(box, { type: "checkbox", name, value });
    const tag = el("label");
    tag.append(box, el("span", label));
    return tag;
  }
  async function applyPage() {
    const { fieldError } = App;
    async function villages(township) {
      const select = $("village_id");
      select.replaceChildren(new Option(township ? _("不清楚，不选") : _("请先选乡镇"), ""));
      const [place] = township ? await api("GET", `/api/places?township=${encodeURIComponent(township)}`) : [];
      for (const v of (place && place.villages) || []) select.append(new Option(v.name, v.id));
      select.disabled = select.options.length === 1;
    }
    App.signIn(async () => {
      let me, catalog, townships;
      try {
        [me, catalog, townships] = await Promise.all([whoAmI(), api("GET", "/api/catalog"), api("GET", "/api/townships")]);
      } catch (err) { showError(err); return; }
      if (me.volunteer_id) { $("already").hidden = false; return; }
      for (const t of townships) $("township").append(new Option(t.name, t.name));
      $("skills").replaceChildren(...catalog.map((c) => choice("skill", c.code, c.name)));
      $("days").replaceChildren(...WEEKDAYS.map((day, i) => choice("day", String(i), day)));
      $("township").addEventListener("change", () => villages($("township").value).catch(showError));
      $("apply-form").hidden = false;
    });
    $("apply-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      const name = $("name").value.trim();
      const township = $("township").value;
      const [start, end] = [$("from").value, $("to").value];
      const missing = [
        ["name", !name, _("请填写姓名")],
        ["township", !township, _("请选择所在乡镇")],
        ["to", !(start && end && start < end), _("结束时间要晚于开始时间")],
      ];
      // Each missing answer said beside its field, the first one focused.
      const bad = missing.filter(([, wrong]) => wrong);
      for (const [field, , words] of bad) fieldError(field, words);
      if (bad.length) { $(bad[0][0]).focus(); return; }
      const picked = (group) => [...document.querySelectorAll(`input[name=${group}]:checked`)].map((b) => b.value);
      const body = {
        name, township,
        village_id: $("village_id").value ? Number($("village_id").value) : null,
        skills: picked("skill"),
        availability: picked("day").map((day) => ({ weekday: Number(day), start, end })),
      };
      $("apply-submit").disabled = true;
      try {
        await api("POST", "/api/volunteers/apply", body);
        $("apply-form").hidden = true;
        $("applied").hidden = false;
        $("applied-title").focus();
      } catch (err) { showError(err); } finally { $("apply-submit").disabled = false; }
    });
  }

  function orderCard(item, kind) {
    const li = el("li");
    const a = el("a", undefined, "order-card");
    a.href = `/volunteer/orders/${item.order_id}`;
    a.dataset.order = item.order_id;
    a.append(el("strong", item.service, "service"));
    a.append(el("span", fill(_("单号 {number}"), { number: App.spoken(item.number) }), "number"));
    a.append(el("span", [item.township, item.village].filter(Boolean).join(" · "), "place"));
    a.append(el("span", STATUS[item.status] || "", "status"));
    if (item.accept_by && kind !== "assigned") {
      const lapse = kind === "open_calls" ? _("抢单截止：{time}（{left}）") : _("请在{time}前答复（{left}）");
      a.append(el("span", fill(lapse, { time: time(item.accept_by), left: countdown(item.accept_by) }), "when"));
    }
    if (item.due_at && ["dispatched", "accepted", "pending"].includes(item.status)) {
      a.append(el("span", fill(_("办结时限：{left}"), { left: countdown(item.due_at) }), "when"));
    }
    li.append(a);
    return li;
  }

  function fillList(id, items, kind) {
    $(id).replaceChildren(...items.map((item) => orderCard(item, kind)));
    $(`${id}-empty`).hidden = items.length > 0;
  }

  async function inboxPage() {
    let seen = null;
    async function refresh() {
      try {
        const inbox = await api("GET", "/api/me/inbox");
        fillList("offered", inbox.offered, "offered");
        fillList("assigned", inbox.assigned, "assigned");
        fillList("open_calls", inbox.open_calls, "open_calls");
        const waiting = inbox.offered.length + inbox.open_calls.length;
        if (seen !== null && waiting > seen) announce(_("有新的单子"));
        seen = waiting;
        $("updated").textContent = fill(_("更新于 {time}"), { time: time(new Date().toISOString()) });
        showError(null);
      } catch (err) { showError(err); }
    }
    App.signIn(async () => {
      try { if (!(await volunteer())) return; } catch (err) { showError(err); return; }
      $("inbox").hidden = false;
      await refresh();
      App.every(POLL_MS, refresh);
    });
  }

  // My record: the orders from my own profile; hours and stars from the service record
  // (志愿服务记录), counted once the center's follow-up verified them.
  async function recordPage() {
    App.signIn(async () => {
      let me;
      try { me = await volunteer(); } catch (err) { showError(err); return; }
      if (!me) return;
      $("record").hidden = false;
      const [profile, record, inbox] = await Promise.allSettled([
        api("GET", `/api/volunteers/${me.volunteer_id}`),
        api("GET", `/api/volunteers/${me.volunteer_id}/record`),
        api("GET", "/api/me/inbox"),
      ]);
      if (profile.status === "fulfilled") {
        const p = profile.value;
        $("orders-completed").textContent = String(p.completed_orders);
        $("orders-on-time").textContent = String(p.on_time_orders);
        $("orders-rated").textContent = String(p.rated_orders);
        $("orders-open").textContent = String(p.open_orders);
      } else showError(profile.reason);
      if (record.status === "fulfilled") {
        const r = record.value;
        $("verified-hours").textContent = hours(r.verified_hours);
        $("unverified-hours").textContent = hours(r.unverified_hours);
        $("stars").textContent = r.star_level ? fill(_("{n}星级志愿者"), { n: r.star_level }) : _("还没有星级");
        $("next-star").textContent = r.hours_to_next_star == null ? "—"
          : fill(_("再服务{h}小时"), { h: r.hours_to_next_star });
        $("ratings").replaceChildren(...Object.entries(RATINGS).map(([code, label]) =>
          el("li", `${label}：${(r.ratings.reviewed || {})[code] || 0}`)));
        $("hours-card").hidden = false;
      } else $("hours-unavailable").hidden = false;
      if (inbox.status === "fulfilled") fillList("held", inbox.value.assigned, "assigned");
      else showError(inbox.reason);
      pastOrders().catch(showError);
      honourRoll(me).catch(showError);
    });
    $("certificate").addEventListener("click", () => certificate($("certificate")));
  }

  // The orders I completed: each a card back to its page, with its hours and rating.
  async function pastOrders() {
    const past = await api("GET", "/api/me/past-orders");
    $("past").replaceChildren(...past.map((item) => {
      const li = orderCard(item, "past");
      const card = li.firstChild;
      card.append(el("span", fill(_("完成于 {time}"), { time: time(item.completed_at) }), "when"));
      const counted = item.hours_counted ? _("已核实") : _("待核实");
      if (item.hours != null) card.append(el("span", fill(_("{hours}（{counted}）"), { hours: hours(item.hours), counted }), "when"));
      if (item.rating) card.append(el("span", fill(_("居民评价：{rating}"), { rating: RATINGS[item.rating] }), "when"));
      return li;
    }));
    $("past-empty").hidden = past.length > 0;
  }

  // The latest honour roll the center published (光荣榜); my own line marked.
  async function honourRoll(me) {
    const roll = await api("GET", "/api/me/honour-roll");
    if (!roll) { $("roll-empty").hidden = false; return; }
    $("roll-period").textContent = fill(_("{period} 期"), { period: roll.period });
    $("roll").replaceChildren(...roll.volunteers.map((entry) => {
      const mine = entry.id === me.volunteer_id;
      const words = fill(_("{name}，核实时长{hours}"), { name: entry.name, hours: hours(entry.verified_hours) });
      const li = el("li", mine ? fill(_("{line}（我）"), { line: words }) : words, mine ? "me" : undefined);
      li.value = entry.rank;
      return li;
    }));
    $("roll-empty").hidden = roll.volunteers.length > 0;
  }

  // The certificate PDF needs the bearer header, so it is fetched, then saved as a file.
  async function certificate(button) {
    showError(null);
    button.disabled = true;
    try {
      const me = await api("GET", "/api/me");
      const res = await fetch(`/api/volunteers/${me.volunteer_id}/certificate.pdf`, { headers: { authorization: `Bearer ${tokens.get()}` } });
      if (!res.ok) {
        const answer = await res.json().catch(() => ({}));
        throw new App.Failure(res.status, answer.code || "");
      }
      const link = el("a");
      link.href = URL.createObjectURL(await res.blob());
      link.download = _("志愿服务记录证明.pdf");
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      announce(_("证明已下载"));
    } catch (err) { showError(err instanceof App.Failure ? err : new App.Failure(0, "Network")); } finally { button.disabled = false; }
  }

  // An <img> cannot send the bearer header: photos are fetched with it, once each, and shown
  // as data: URLs (the CSP allows those for images, not blob: ones).
  const pictures = new Map();
  const dataUrl = (blob) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  async function thumbnail(photo, auth) {
    if (!pictures.has(photo.photo_id)) {
      pictures.set(photo.photo_id, fetch(photo.thumbnail_url, { headers: auth })
        .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(String(res.status)))))
        .then(dataUrl));
    }
    const li = el("li");
    const img = el("img");
    img.alt = _("现场照片");
    img.width = 96;
    img.height = 96;
    li.append(img);
    pictures.get(photo.photo_id).then((url) => { img.src = url; }).catch(() => { img.alt = _("照片暂时打不开"); });
    return li;
  }

  async function orderPage() {
    const id = location.pathname.split("/").filter(Boolean).pop();
    const linkKey = `fourorders.volunteer.link.${id}`;
    const t = new URLSearchParams(location.search).get("t");
    // The dispatch SMS's link acts as that volunteer on this one order (vl1.<order>.<volunteer
    // id in base 36>.<expiry>.<mac>): they answer it without signing in. The inbox and other
    // orders need their own sign-in.
    if (t) { sessionStorage.setItem(linkKey, `vl1.${id}.${t}`); history.replaceState(null, "", location.pathname); }
    let link = sessionStorage.getItem(linkKey);
    const auth = () => ({ authorization: `Bearer ${tokens.get() || link}` });
    const linked = () => ({ volunteer_id: parseInt(link.split(".")[2], 36), led_units: [] });
    let me = null;
    let order = null;
    let contact = null;
    const photoIds = [];
    let photosShown = false;
    let hoursTouched = false;

    const show = (section, on) => { $(section).hidden = !on; };
    async function loadContact() {
      if (contact) return;
      contact = await api("GET", `/api/orders/${id}/contact`, undefined, auth());
      $("contact-name").textContent = contact.resident_name;
      $("contact-number").textContent = phoneText(contact.resident_phone);
      $("contact-phone").href = `tel:${contact.resident_phone}`;
      $("contact-address").textContent = `${contact.township} ${contact.address}`;
      // A plain link, followed only when tapped: nothing about the resident leaves before that.
      $("map-link").href = `https://uri.amap.com/search?keyword=${encodeURIComponent(`${contact.township}${contact.address}`)}`;
    }

    function render() {
      const mine = Boolean(me && order.volunteer_id === me.volunteer_id);
      const leads = Boolean(me && order.unit_id && me.led_units.includes(order.unit_id));
      const toAssign = leads && order.status === "dispatched" && !order.volunteer_id;
      show("summary", true);
      $("status").textContent = STATUS[order.status] || "";
      $("status").dataset.status = order.status;
      announce(fill(_("状态：{status}"), { status: STATUS[order.status] || "" }));
      $("item").textContent = order.item_name;
      $("number").textContent = App.spoken(order.number);
      $("place").textContent = [order.township, order.village].filter(Boolean).join(" · ");
      // What the volunteer decides on before accepting: when to answer by, the dispatcher's note.
      const lapse = toAssign ? _("请在{time}前指派（{left}）") : _("请在{time}前答复（{left}）");
      const answerBy = order.accept_by ? fill(lapse, { time: time(order.accept_by), left: countdown(order.accept_by) }) : "";
      $("accept-by").textContent = answerBy;
      show("accept-by", Boolean(answerBy));
      show("accept-by-label", Boolean(answerBy));
      $("dispatch-note").textContent = order.dispatch_note || "";
      show("dispatch-note", Boolean(order.dispatch_note));
      show("dispatch-note-label", Boolean(order.dispatch_note));
      // The deadline matters until the work is reported (due_at is null from then on).
      show("due-label", Boolean(order.due_at));
      show("due-value", Boolean(order.due_at));
      if (order.due_at) {
        $("due").textContent = time(order.due_at);
        $("countdown").textContent = countdown(order.due_at);
      }
      $("reason").textContent = order.reason || "";
      show("reason", Boolean(order.reason));
      show("reason-label", Boolean(order.reason));
      // Offered to me: dispatched to me (or handed on by my leader), or an open call I can see.
      const offered = order.status === "dispatched" && !toAssign
        && (order.volunteer_id ? mine : !order.unit_id);
      show("respond", Boolean(me) && offered);
      show("assign", toAssign);
      const working = mine && order.status === "accepted";
      show("contact", working);
      show("visit", working);
      show("complete-form", working);
      if (working) loadContact().catch(showError);
      // Photos uploaded before a reload are still this completion's, and can still be removed.
      if (working && !photosShown) {
        photosShown = true;
        for (const photo of order.photos) {
          photoIds.push(photo.photo_id);
          thumbnail(photo, auth()).then((item) => $("photos").append(photoItem(photo, item)));
        }
      }
      $("checked-in").textContent = time(order.checked_in_at);
      $("checked-out").textContent = time(order.checked_out_at);
      show("check-in", !order.checked_in_at);
      show("check-out", Boolean(order.checked_in_at) && !order.checked_out_at);
      if (order.proposed_hours && !hoursTouched) $("hours").value = String(order.proposed_hours);
      show("handover", mine && order.status === "completed");
      const done = ["completed", "reviewed", "closed"].includes(order.status);
      show("result", done);
      if (done) {
        $("result-hours").textContent = order.hours == null ? "—" : hours(order.hours);
        // The summary is the resident's business too: once the order closes it is no longer shown.
        $("result-note").textContent = order.completion_note || "";
        show("result-note", Boolean(order.completion_note));
        show("result-note-label", Boolean(order.completion_note));
        $("result-rating").textContent = order.review_rating
          ? rated(order.review_rating, order.review_channel) : _("还没有评价");
        $("result-verified").textContent = order.verified_rating
          ? (order.rating_corrected
            ? fill(_("回访时改为{new}（原评价{old}）"), { new: RATINGS[order.verified_rating], old: RATINGS[order.review_rating] || "—" })
            : fill(_("已核实：{rating}"), { rating: RATINGS[order.verified_rating] }))
          : _("等待中心回访");
        if ($("result-photos").children.length !== order.photos.length) {
          Promise.all(order.photos.map((p) => thumbnail(p, auth()))).then((items) => $("result-photos").replaceChildren(...items));
        }
      }
      $("events").replaceChildren(...order.events.map((e) => {
        const li = el("li");
        li.dataset.event = e.type;
        li.append(el("time", time(e.at)));
        const what = EVENTS[e.type] || _("进度更新");
        const who = e.actor && e.actor.name ? fill(_("{what}（{who}）"), { what, who: e.actor.name }) : what;
        li.append(e.type === "reviewed" && e.rating ? fill(_("{what}：{rating}"), { what: who, rating: rated(e.rating, e.channel) }) : who);
        return li;
      }));
    }

    let failed = false;
    async function refresh() {
      if (!tokens.get() && !link) return;
      try {
        order = await api("GET", `/api/orders/${id}`, undefined, auth());
        render();
        if (failed) { showError(null); failed = false; }
      } catch (err) {
        // A link that no longer opens the order (expired, or not one this volunteer may act
        // on): forget it and ask for the sign-in instead.
        if (link && !tokens.get() && [401, 403, 404].includes(err.status)) {
          sessionStorage.removeItem(linkKey);
          link = null;
          me = null;
          $("link-hint").hidden = true;
          $("sign-in-hint").hidden = false;
          askToSignIn();
          return;
        }
        showError(err);
        failed = true;
      }
    }

    // Every command answers the order as it now is: draw that at once.
    async function command(button, path, body) {
      showError(null);
      button.disabled = true;
      try {
        order = await api("POST", `/api/orders/${id}/${path}`, body, auth());
        render();
        return true;
      } catch (err) { showError(err); return false; } finally { button.disabled = false; }
    }

    $("accept").addEventListener("click", () => command($("accept"), "accept"));
    $("decline-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const reason = $("decline-reason").value.trim();
      $("decline-reason").setAttribute("aria-invalid", String(!reason));
      if (!reason) { showError(new Error(_("请写明不能去的原因"))); $("decline-reason").focus(); return; }
      if (await command($("decline"), "decline", { reason })) location.href = "/volunteer/";
    });
    $("assign-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const member = Number($("member").value);
      if (!member) { showError(new Error(_("请选择一位队员"))); $("member").focus(); return; }
      await command($("assign-submit"), "assign", { volunteer_id: member });
    });
    $("check-in").addEventListener("click", () => command($("check-in"), "check-in"));
    $("check-out").addEventListener("click", () => command($("check-out"), "check-out"));
    $("hours").addEventListener("input", () => { hoursTouched = true; });
    // Photos from the camera (拍照) or the album; each refused one is named with the reason,
    // and an uploaded one can be taken back before completing (it is then not attached).
    const picker = $("photo-picker").dataset;
    function refuse(file, failure) {
      $("photo-refusals").append(el("li", fill(_("{name}：{reason}"), { name: file.name || _("照片"), reason: failure.message })));
    }
    function photoItem(photo, item) {
      const remove = el("button", _("删除"), "secondary");
      remove.type = "button";
      remove.setAttribute("aria-label", _("删除这张照片"));
      remove.addEventListener("click", async () => {
        remove.disabled = true;
        try {
          await api("DELETE", `/api/orders/${id}/photos/${photo.photo_id}`, undefined, auth());
        } catch (err) { showError(err); remove.disabled = false; return; }
        photoIds.splice(photoIds.indexOf(photo.photo_id), 1);
        item.remove();
        announce(fill(_("照片已删除，还有 {n} 张"), { n: photoIds.length }));
        $("photo").focus();
      });
      item.append(remove);
      return item;
    }
    async function upload(input) {
      const files = [...input.files];
      input.value = "";
      $("photo-refusals").replaceChildren();
      for (const file of files) {
        // Refused here before a slow village connection carries it up (the server checks too).
        if (!file.type.startsWith("image/")) { refuse(file, new App.Failure(415, "UnsupportedPhoto")); continue; }
        if (file.size > Number(picker.maxBytes)) { refuse(file, new App.Failure(413, "PhotoTooLarge")); continue; }
        if (photoIds.length >= Number(picker.maxCount)) { refuse(file, new App.Failure(409, "TooManyPhotos")); continue; }
        const form = new FormData();
        form.append("file", file);
        try {
          const photo = await api("POST", `/api/orders/${id}/photos`, form, auth());
          photoIds.push(photo.photo_id);
          $("photos").append(photoItem(photo, await thumbnail(photo, auth())));
          announce(fill(_("照片已上传 {n} 张"), { n: photoIds.length }));
        } catch (err) { refuse(file, err instanceof App.Failure ? err : new App.Failure(0, "Network")); }
      }
    }
    for (const input of [$("camera"), $("photo")]) input.addEventListener("change", () => upload(input));
    $("complete-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const summary = $("summary-text").value.trim();
      const spent = Number($("hours").value);
      $("summary-text").setAttribute("aria-invalid", String(!summary));
      $("hours").setAttribute("aria-invalid", String(!(spent > 0)));
      if (!summary) { showError(new Error(_("请写明做了什么"))); $("summary-text").focus(); return; }
      if (!(spent > 0)) { showError(new Error(_("请填写服务时长"))); $("hours").focus(); return; }
      await command($("complete"), "complete", { summary, hours: spent, photo_ids: photoIds });
    });

    // The on-site review (现场评价): the resident holds the phone and sees nothing else.
    const handOver = (toResident) => {
      $("work").hidden = toResident;
      $("review-screen").hidden = !toResident;
      $("review-thanks").hidden = true;
      $(toResident ? "review-title" : "handover-title").focus();
    };
    $("start-review").addEventListener("click", () => {
      $("review-service").textContent = order ? order.item_name : "";
      handOver(true);
    });
    $("review-cancel").addEventListener("click", () => handOver(false));
    $("review-screen").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const picked = document.querySelector("input[name=rating]:checked");
      if (!picked) { showError(new Error(_("请选择满意程度"))); return; }
      const comment = $("review-comment").value.trim() || null;
      if (await command($("review-submit"), "review", { rating: picked.value, comment })) {
        $("review-screen").hidden = true;
        $("review-thanks").hidden = false;
        $("thanks-title").focus();
      }
    });
    $("review-back").addEventListener("click", () => { $("review-thanks").hidden = true; $("work").hidden = false; refresh(); });

    let signingIn = false;
    function askToSignIn() {
      if (signingIn) return;
      signingIn = true;
      App.signIn(async () => {
        $("sign-in-hint").hidden = true;
        try { me = await volunteer(); } catch (err) { showError(err); return; }
        await refresh();
        if (me && me.led_units.length) loadMembers(me).catch(showError);
      });
    }

    App.every(POLL_MS, refresh);
    if (link && !tokens.get()) {
      me = linked();
      await refresh();
      if (!link) return;  // it failed: the sign-in is showing
      // A leader's link shows their unit's order; handing it on needs their own sign-in.
      const toTeam = Boolean(order && order.status === "dispatched" && order.unit_id && !order.volunteer_id);
      $("link-hint").hidden = toTeam;
      $("sign-in-hint").hidden = !toTeam;
      if (!toTeam) return;
    }
    askToSignIn();
  }

  // A leader's members, to hand a unit's order to one of them.
  async function loadMembers(me) {
    const lists = await Promise.all(me.led_units.map((unit) => api("GET", `/api/units/${unit}/members`)));
    const members = lists.flat();
    // A paused member is shown, but cannot be picked.
    $("member").replaceChildren(new Option(_("请选择…"), ""), ...members.map((m) => {
      const option = new Option(m.available ? m.name : fill(_("{name}（暂停服务）"), { name: m.name }), String(m.id));
      option.disabled = !m.available;
      return option;
    }));
  }

  return { install, inboxPage, orderPage, recordPage, applyPage };
})();
Volunteer.install();
({ inbox: Volunteer.inboxPage, order: Volunteer.orderPage, record: Volunteer.recordPage, apply: Volunteer.applyPage })[document.body.dataset.page]();

// 来电回拨 (/call-center/call-backs): callers of the keypad line waiting for an agent. Claim
// one (only then the number shows in full), hear what they said, call back, and take the
// order on 代居民下单 (which closes the task) or say why none was taken.
"use strict";
(() => {
  const { _, $, api, showError } = App;
  const { el, table, when, clock, live, start } = Desk;
  const KINDS = { callback: _("按0要人工"), intake: _("语音留言") };
  let current = null;
  // A number as people read it out (139 0013 9077); a masked one stays as it is.
  const readable = (phone) => phone.replace(/^\+86(\d{3})(\d{4})(\d{4})$/, "$1 $2 $3");
  let ticking = null;

  function show(task) {
    current = task;
    $("call-empty").hidden = Boolean(task);
    $("call-body").hidden = !task;
    if (ticking) { clearInterval(ticking); ticking = null; }
    if (!task) return;
    $("c-phone").textContent = readable(task.phone);
    $("c-kind").textContent = KINDS[task.kind] || task.kind;
    $("c-service").textContent = task.service || _("没有选");
    $("c-recording").hidden = !task.has_recording;
    $("audio").hidden = true;
    $("audio").removeAttribute("src");
    const query = new URLSearchParams({ phone: task.phone, call_request: String(task.id) });
    $("order-for").href = `/call-center/orders/new?${query}`;
    const tick = () => {
      const left = Date.parse(task.claim_expires_at) - Date.now();
      $("c-lease").textContent = left > 0 ? clock(left) : _("已过期，请重新认领");
    };
    tick();
    ticking = setInterval(tick, 1000);
    $("call-title").focus();
  }

  function say(text) {
    $("call-notice").textContent = text;
    $("call-notice").hidden = !text;
  }

  async function refresh() {
    const tasks = await api("GET", "/api/call-requests?status=open&limit=100");
    $("calls-count").textContent = _("{n} 个").replace("{n}", tasks.length);
    const mine = tasks.find((t) => t.claimed_by_me);
    if (mine && (!current || current.id !== mine.id)) show(mine);
    if (!mine && current) show(null);
    table($("calls-rows"), tasks, [
      (t) => when(t.created_at),
      (t) => KINDS[t.kind] || t.kind,
      (t) => t.service || "—",
      (t) => readable(t.phone),
      (t) => (t.claimed_by_me ? _("我已认领")
        : el("button", { type: "button", class: "secondary", "aria-label": `${_("认领")}：${t.phone}`,
          onclick: () => claim(t.id) }, _("认领"))),
    ], { empty: _("没有等待回拨的来电") });
  }

  async function claim(id) {
    showError(null); say("");
    try { show(await api("POST", `/api/call-requests/${id}/claim`)); await refresh(); } catch (err) { showError(err); }
  }

  // The recording needs the sign-in's token, which an <audio src> cannot carry: fetched, then
  // played from memory (it is never saved on the agent's computer).
  $("play").addEventListener("click", async () => {
    showError(null);
    $("play").disabled = true;
    try {
      const res = await fetch(`/api/call-requests/${current.id}/recording`, {
        headers: { authorization: `Bearer ${App.tokens.get()}` },
      });
      if (!res.ok) {
        const answer = await res.json().catch(() => ({}));
        throw new App.Failure(res.status, answer.code || "");
      }
      $("audio").src = URL.createObjectURL(await res.blob());
      $("audio").hidden = false;
      await $("audio").play().catch(() => undefined);
    } catch (err) { showError(err); }
    $("play").disabled = false;
  });

  for (const button of document.querySelectorAll("[data-outcome]")) {
    button.addEventListener("click", async () => {
      showError(null);
      try {
        await api("POST", `/api/call-requests/${current.id}/done`, { outcome: button.dataset.outcome });
        show(null);
        say(_("已办结：{what}").replace("{what}", button.textContent));
        await refresh();
      } catch (err) { showError(err); }
    });
  }

  $("release").addEventListener("click", async () => {
    showError(null);
    try { await api("POST", `/api/call-requests/${current.id}/release`); show(null); await refresh(); } catch (err) { showError(err); }
  });

  start(() => live(5000, refresh));
})();

// 代居民下单 (/call-center/orders/new): an agent or admin orders for a caller. The caller's
// number first: a resident we know shows their earlier orders, and the place of the latest
// is offered to reuse; then the resident's own form (services.js) and how they came in.
"use strict";
(() => {
  const { _, $, api, showError, fieldError, tokens } = App;
  const { table, when, start, STATUS } = Desk;

  // An admin comes here from the console in the same tab: their console sign-in serves here
  // too rather than asking for the password again.
  const consoleKey = (kind) => `fourorders.console.${kind}`;
  if (!tokens.get() && sessionStorage.getItem(consoleKey("token"))) {
    tokens.set(sessionStorage.getItem(consoleKey("token")), sessionStorage.getItem(consoleKey("refresh")));
    const who = sessionStorage.getItem(consoleKey("who"));
    if (who) sessionStorage.setItem(tokens.key("who"), who);
  }

  let caller = null;  // the lookup's answer for the number on the line
  let items = new Map();

  function showCaller(found) {
    caller = found;
    $("caller").hidden = false;
    $("caller-found").textContent = found.known
      ? _("老用户：{name}，以前求助过 {n} 次").replace("{name}", found.resident_name).replace("{n}", found.orders.length)
      : _("新来电：这个号码还没有求助过，请问清姓名和地址。");
    $("caller-known").hidden = !found.known;
    if (found.known) {
      $("reuse").textContent = _("用上次的地址：{place}").replace("{place}", `${found.township} ${found.address}`);
      table($("earlier-rows"), found.orders, [
        (o) => App.spoken(o.number),
        (o) => (items.has(o.item_code) ? OrderForm.named(items.get(o.item_code)) : o.item_code),
        (o) => STATUS[o.status] || o.status,
        (o) => when(o.submitted_at),
      ]);
    }
    $("order-wait").hidden = true;
    $("order-form").hidden = false;
    $("caller-found").focus();
  }

  $("caller-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showError(null);
    const phone = $("caller-phone").value.trim();
    if (!phone) { fieldError("caller-phone", _("请填写居民的手机号")); $("caller-phone").focus(); return; }
    $("look-up").disabled = true;
    try {
      showCaller(await api("POST", "/api/callers/lookup", { phone }));
    } catch (err) {
      showError(Object.assign(err, { fields: err.fields.length ? ["caller-phone"] : [] }));
    }
    $("look-up").disabled = false;
  });
  // Another number is another caller: what was found for the last one goes.
  $("caller-phone").addEventListener("input", () => {
    fieldError("caller-phone", null);
    if (!caller) return;
    caller = null;
    $("caller").hidden = true;
    $("order-form").hidden = true;
    $("order-wait").hidden = false;
  });

  $("reuse").addEventListener("click", () => OrderForm.fillPlace(caller).catch(showError));

  // The channel is the agent's to say (never assumed): a walk-in is not a phone call.
  function extra() {
    const channel = document.querySelector("input[name=channel]:checked");
    if (!channel) {
      fieldError("channel", _("请选择居民是打电话来的，还是到站点来的"));
      document.querySelector("input[name=channel]").focus();
      return null;
    }
    return { resident_phone: caller.phone, channel: channel.value };
  }
  $("channel-field").addEventListener("change", () => fieldError("channel", null));

  // Come from 来电回拨: the number to call back is filled in and looked up, and the order
  // taken closes that call-back task.
  const asked = new URLSearchParams(location.search);
  const callRequest = asked.get("call_request");

  async function placed(order) {
    if (callRequest) {
      await api("POST", `/api/call-requests/${callRequest}/done`, { outcome: "ordered", order_id: order.id })
        .catch(showError);
    }
    $("order-form").hidden = true;
    $("caller").hidden = true;
    $("caller-form").hidden = true;
    $("placed-number").textContent = App.spoken(order.number);
    $("placed").hidden = false;
    $("placed-title").focus();
  }

  $("next-caller").addEventListener("click", async () => {
    caller = null;
    await OrderForm.clear().catch(showError);
    $("placed").hidden = true;
    $("caller-form").hidden = false;
    $("caller-form").reset();
    $("order-wait").hidden = false;
    $("caller-phone").focus();
  });

  start(async () => {
    try { items = await OrderForm.wire({ extra, placed }); } catch (err) { showError(err); }
    if (asked.get("phone")) {
      $("caller-phone").value = asked.get("phone");
      $("caller-form").requestSubmit();
    }
  });
})();

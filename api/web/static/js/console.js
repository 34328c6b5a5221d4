// The admin console (/console/): every page reads and acts through the JSON API (see desk.js).
"use strict";
const Console = (() => {
  const { _, $, api, showError, time } = App;
  const { el, table, countdown, live, start, everything, STATUS, EVENTS, ACTORS } = Desk;
  const LIVE_MS = 3000;

  const { RATINGS } = App;
  const UNIT_KINDS = { institute: _("新时代文明实践所"), station: _("新时代文明实践站"), team: _("志愿服务队") };
  const ROLES = { admin: _("管理员"), agent: _("回访坐席") };

  // Menu names for item codes (every item, those off the menu too), loaded once per page.
  let itemNames = null;
  async function items() {
    if (!itemNames) itemNames = await api("GET", "/api/catalog/items");
    return itemNames;
  }
  const itemName = (code) => (itemNames || []).find((i) => i.code === code)?.name || code;
  // By its number where the list carries it (what callers read out), else its id.
  const orderLink = (id, number) => el("a", { href: `/console/orders/${id}` }, number ? App.spoken(number) : id);
  const stamp = () => { $("updated").textContent = time(new Date().toISOString()); };
  const statusText = (o) => STATUS[o.status] || o.status;
  // Why an order needs the center, as chips beside it (words, never colour alone).
  const flags = (o, complained = false) => [
    o.undispatchable && el("span", { class: "chip urgent" }, _("无人可派")),
    o.workflow_lost && el("span", { class: "chip urgent" }, _("流程异常")),
    o.hurry_count > 0 && el("span", { class: "chip high" }, _("催办 {n} 次").replace("{n}", o.hurry_count)),
    o.escalation_level > 0 && el("span", { class: "chip urgent" }, _("超时督办 {n} 级").replace("{n}", o.escalation_level)),
    complained && el("span", { class: "chip urgent" }, _("投诉待处理")),
  ].filter(Boolean);
  const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined)).toString();

  // A button that runs an action once per click, disabled meanwhile, errors shown in words.
  // A row's button says what it does ("批准") and, to a screen reader, to whom ("批准：杨").
  function action(label, whom, run, props = {}) {
    const named = whom ? { "aria-label": `${label}：${whom}` } : {};
    return wire(el("button", { type: "button", ...named, ...props }, label), run);
  }
  function wire(button, run) {
    button.addEventListener("click", async () => {
      showError(null);
      button.disabled = true;
      try { await run(); } catch (err) { showError(err); }
      button.disabled = false;
    });
    return button;
  }

  // Submit handler for a form: prevents the page load, shows errors, disables while sending.
  function onSubmit(form, run) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      const buttons = form.querySelectorAll("button[type=submit]");
      buttons.forEach((b) => { b.disabled = true; });
      try { await run(); } catch (err) { showError(err); }
      buttons.forEach((b) => { b.disabled = false; });
    });
  }

  function required(...ids) {
    for (const id of ids) {
      const node = $(id);
      if (!node.value.trim()) {
        node.setAttribute("aria-invalid", "true");
        node.focus();
        throw new Error(_("请填写{field}").replace("{field}", document.querySelector(`label[for=${id}]`).textContent.trim()));
      }
      node.removeAttribute("aria-invalid");
    }
  }

  // Skills are catalog codes (a category or one of its items); people read and choose them
  // by the menu's names, never by code.
  let menu = null;
  async function skillMenu() {
    if (!menu) {
      const [categories, all] = await Promise.all([api("GET", "/api/catalog"), items()]);
      menu = { categories, names: new Map([...categories, ...all].map((c) => [c.code, c.name])) };
    }
    return menu;
  }
  const skillName = (code) => menu?.names.get(code) || _("已停用的服务");
  const skillList = (codes) => codes.map(skillName).join("、") || "—";

  // The county's townships; ``mine``: only those the signed-in admin works in.
  async function fillTownships(select, { mine = false } = {}) {
    const [all, me] = await Promise.all([api("GET", "/api/townships"), mine ? api("GET", "/api/me") : null]);
    for (const t of all) if (!me || me.townships === null || me.townships.includes(t.name)) select.append(new Option(t.name, t.name));
  }

  // --- the to-close board -------------------------------------------------------------------
  async function board() {
    await items();
    let said = "";
    live(LIVE_MS, async () => {
      const b = await api("GET", "/api/board");
      for (const [key, n] of Object.entries(b.counts)) {
        $(`count-${key}`).textContent = String(n);
        $(`count-${key}`).dataset.count = String(n);
        $(`list-${key}`).replaceChildren(...b.columns[key].map((o) => el(
          "li", { dataset: { id: o.id } },
          orderLink(o.id, o.number), " ", itemName(o.item_code), " · ", o.township, " ",
          el("span", { class: o.overdue ? "chip urgent" : "chip quiet" }, App.countdown(o.deadline_at)),
          ...flags(o, b.complaint_open.includes(o.id)).flatMap((chip) => [" ", chip]),
        )));
      }
      const summary = ["pending", "dispatched", "accepted", "overdue", "supervised"]
        .map((k) => `${$(`col-${k}-title`).textContent} ${b.counts[k]}`).join("，");
      if (summary !== said) { $("board-summary").textContent = summary; said = summary; }
      stamp();
    });
  }

  // --- the order list -----------------------------------------------------------------------
  const PAGE = 25;
  async function orders() {
    const form = $("filters");
    // 在办 (any of the open steps) is the board's, as the API's ``open`` filter.
    $("f-status").append(new Option(_("在办（未办结）"), "open"));
    for (const [code, label] of Object.entries(STATUS)) $("f-status").append(new Option(label, code));
    const [catalog] = await Promise.all([items(), fillTownships($("f-township"))]);
    for (const i of catalog) $("f-item").append(new Option(i.name, i.code));
    const params = new URLSearchParams(location.search);
    const fields = { q: "f-q", status: "f-status", township: "f-township", item: "f-item", overdue: "f-overdue", since: "f-since", until: "f-until" };
    for (const [name, id] of Object.entries(fields)) if (params.has(name)) $(id).value = params.get(name);
    let offset = Number(params.get("offset") || 0);
    const chosen = () => Object.fromEntries(Object.entries(fields).map(([name, id]) => [name, $(id).value]));
    const asked = () => {
      const { status, ...rest } = chosen();
      return status === "open" ? { ...rest, open: true } : { ...rest, status };
    };
    const show = () => history.replaceState(null, "", `?${query({ ...chosen(), offset: offset || "" })}`);
    let stop = null;
    // A search by phone or name is audited each time it runs: it is looked up once, not
    // every few seconds.
    const reload = () => { if (stop) stop(); show(); stop = live($("f-q").value.trim() ? null : 5000, refresh); };
    async function refresh() {
      const page = await api("GET", `/api/orders?${query({ ...asked(), limit: PAGE, offset })}`);
      table($("orders-body"), page.items, [
        (o) => orderLink(o.id, o.number), (o) => itemName(o.item_code), (o) => o.township,
        (o) => el("span", {}, statusText(o), ...flags(o).flatMap((chip) => [" ", chip])), (o) => time(o.submitted_at),
        (o) => el("span", { class: o.overdue ? "chip urgent" : "" }, time(o.deadline_at)),
      ], { empty: _("没有符合条件的订单") });
      $("total").textContent = _("共 {n} 张订单").replace("{n}", page.total);
      const pages = Math.max(1, Math.ceil(page.total / PAGE));
      $("page-no").textContent = _("第 {p} / {n} 页").replace("{p}", Math.floor(offset / PAGE) + 1).replace("{n}", pages);
      $("prev").disabled = offset === 0;
      $("next").disabled = offset + PAGE >= page.total;
      stamp();
    }
    // The export holds every order the list shows (all its pages), by the same filter; the
    // list's days are whole county days, the export's period runs up to the next midnight.
    const exported = (format) => {
      const { since, until, ...rest } = asked();
      const after = (day) => new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
      return `/api/reports/orders/export?${query({
        ...rest, format, from: since && `${since}T00:00:00`, to: until && `${after(until)}T00:00:00`,
      })}`;
    };
    for (const format of ["xlsx", "csv"]) wire($(`export-${format}`), () => Desk.download(exported(format)));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; reload(); });
    form.addEventListener("reset", () => setTimeout(() => { offset = 0; reload(); }));
    $("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); reload(); });
    $("next").addEventListener("click", () => { offset += PAGE; reload(); });
    reload();
  }

  // --- one order ----------------------------------------------------------------------------
  // A score's part (0–1) as a word and a bar, never a bare decimal.
  const LEVELS = [[0.75, _("高")], [0.4, _("中")], [Number.MIN_VALUE, _("低")]];
  const level = (x) => LEVELS.find(([least]) => x >= least)?.[1] || _("无");
  const score = (x) => (x === null || x === undefined ? "—"
    : el("span", { class: "gauge" }, el("meter", { min: 0, max: 1, value: x, "aria-hidden": "true" }), level(x)));
  // Whether the volunteer can do what was ordered: the item itself, its category, or neither.
  const lacksSkill = (c) => !(c.skill > 0);
  const skillWords = (c) => (c.skill >= 1 ? _("会这项") : c.skill > 0 ? _("会这一类")
    : el("span", { class: "chip urgent" }, _("没有这项技能")));
  // Who acted, as the timeline names them: "admin:3" → 中心管理员 3 (ids only, never a phone).
  function actorText(e) {
    if (e.actor && typeof e.actor === "object") return e.actor.name || ACTORS[e.actor.kind] || "";
    const [kind, id] = String(e.actor || "").split(":");
    if (kind === "volunteer" && id) return volunteerName(Number(id));
    return `${ACTORS[kind] || kind}${id ? ` ${id}` : ""}`;
  }

  // Volunteers by name where the admin may read their record, else by number.
  const volunteerNames = new Map();
  async function learnNames(ids) {
    await Promise.all([...new Set(ids)].filter((v) => v && !volunteerNames.has(v)).map(async (v) => {
      volunteerNames.set(v, null);
      try { volunteerNames.set(v, (await api("GET", `/api/volunteers/${v}`)).name); } catch (err) { /* by number */ }
    }));
  }
  const volunteerName = (v) => volunteerNames.get(v) || _("志愿者 {id}").replace("{id}", v);
  const OPEN = ["pending", "dispatched", "accepted"];
  const TO_SOMEONE = ["dispatched", "redispatched", "assigned"];

  async function order() {
    const id = location.pathname.split("/").filter(Boolean).pop();
    $("order-id").textContent = id;
    await items();
    let current = null;
    let ranked = null;
    const reason = () => $("dispatch-reason").value.trim() || undefined;
    async function dispatch(body) {
      current = await api("POST", `/api/orders/${id}/dispatch`, { ...body, reason: reason() });
      $("dispatch-reason").value = "";
      render(current);
      await candidates();
    }
    async function candidates() {
      if (!OPEN.includes(current.status)) { $("dispatch").hidden = true; return; }
      $("dispatch").hidden = false;
      const redispatch = current.status !== "pending";
      $("dispatch-title").textContent = redispatch ? _("改派：推荐的志愿者") : _("派单：推荐的志愿者");
      // The holder of the order is left out by the API: 改派 offers someone else.
      ranked = await api("GET", `/api/orders/${id}/candidates`);
      const skilled = ranked.volunteers.filter((c) => !lacksSkill(c)).length;
      $("skill-warning").hidden = !ranked.volunteers.length || skilled > 0;
      $("skill-warning").textContent = _("推荐的志愿者都没有“{item}”这项技能：派单前请先电话确认能否胜任，并在派单说明里写明原因。").replace("{item}", current.item_name);
      table($("candidates-body"), ranked.volunteers, [
        (c) => c.name, (c) => el("strong", {}, score(c.score)), (c) => score(c.proximity), skillWords,
        (c) => score(c.trade), (c) => score(c.fit),
        (c) => (c.distance_km === null ? "—" : _("{km} 公里").replace("{km}", c.distance_km.toFixed(1))),
        (c) => `${c.open_orders}/${c.max_open_orders}`,
        (c) => action(redispatch ? _("改派") : _("派单"), c.name, async () => {
          // Sending it to someone without the skill is a decision the center writes down.
          if (lacksSkill(c) && !reason()) {
            throw Object.assign(new Error(_("{name}没有这项技能：请先在派单说明里写明为什么派给这位志愿者。").replace("{name}", c.name)), { fields: ["dispatch-reason"] });
          }
          await dispatch({ volunteer_id: c.volunteer_id });
        }),
      ], { empty: _("暂无可派的志愿者"), key: (c) => c.volunteer_id });
      table($("units-body"), ranked.units, [
        (u) => `${u.name}（${UNIT_KINDS[u.kind] || u.kind}）`, (u) => score(u.score), (u) => `${u.members_free}/${u.members}`,
        (u) => action(_("派单"), u.name, () => dispatch({ unit_id: u.unit_id })),
      ], { empty: _("暂无可派的服务队"), key: (u) => u.unit_id });
      $("open-call").disabled = ranked.volunteers.length < 2 || current.status === "accepted";
    }
    function render(o) {
      $("order-id").textContent = App.spoken(o.number);
      $("status").textContent = statusText(o) + (o.overdue ? _("（已超时）") : "") + (o.undispatchable ? _("（无人可派）") : "");
      $("status").dataset.status = o.status;
      $("item").textContent = o.item_name;
      $("township").textContent = o.township;
      $("address").textContent = o.address || "—";
      $("resident").textContent = [o.resident_name, o.resident_phone_masked].filter(Boolean).join(" ") || "—";
      $("reason").textContent = o.reason || "—";
      $("submitted").textContent = time(o.submitted_at);
      $("deadline").replaceChildren(time(o.deadline_at), " ", OPEN.includes(o.status)
        ? el("span", { class: o.overdue ? "chip urgent" : "chip quiet" }, App.countdown(o.deadline_at)) : "");
      $("volunteer").textContent = o.volunteer_id ? volunteerName(o.volunteer_id) : (o.offered_to.length ? _("抢单中：{n} 人").replace("{n}", o.offered_to.length) : "—");
      $("hurry").textContent = o.hurry_count ? _("{n} 次，最近 {t}").replace("{n}", o.hurry_count).replace("{t}", time(o.last_hurried_at)) : _("无");
      $("rating").textContent = [o.review_rating && RATINGS[o.review_rating], o.rating && o.rating !== o.review_rating && _("回访核实：{r}").replace("{r}", RATINGS[o.rating])].filter(Boolean).join("，") || "—";
      if (o.workflow_url) $("temporal-link").href = o.workflow_url;
      $("timeline").replaceChildren(...o.timeline.map((e) => el(
        "li", { dataset: { event: e.event } },
        el("time", { dateTime: e.at }, time(e.at)),
        el("strong", {}, EVENTS[e.event] || e.event), " · ", actorText(e),
        TO_SOMEONE.includes(e.event) && e.volunteer_id ? ` → ${volunteerName(e.volunteer_id)}` : "",
        e.note ? el("span", { class: "note" }, `“${e.note}”`) : null,
      )));
    }
    async function notes() {
      const list = await api("GET", `/api/orders/${id}/notes`);
      $("notes").replaceChildren(...(list.length ? list.map((n) => el(
        "li", { dataset: { id: n.id } }, el("time", { dateTime: n.created_at }, `${time(n.created_at)} · ${n.author || "—"}`), n.text,
      )) : [el("li", { class: "muted" }, _("暂无备注"))]));
    }
    // An open call (抢单) first says whom it will reach, by name, and waits for a yes; it goes
    // to exactly those named.
    let reach = [];
    $("open-call").addEventListener("click", () => {
      reach = ranked.volunteers.slice(0, Number($("open-call").dataset.size));
      $("open-call-says").textContent = _("抢单将同时发给 {n} 位志愿者：{names}。谁先接单就由谁办理。确认发布吗？")
        .replace("{n}", reach.length).replace("{names}", reach.map((c) => c.name).join("、"));
      $("open-call-confirm").hidden = false;
      $("open-call-yes").focus();
    });
    $("open-call-no").addEventListener("click", () => { $("open-call-confirm").hidden = true; $("open-call").focus(); });
    wire($("open-call-yes"), async () => {
      current = await api("POST", `/api/orders/${id}/open-call`, { volunteer_ids: reach.map((c) => c.volunteer_id) });
      $("open-call-confirm").hidden = true;
      render(current);
      await candidates();
    });
    onSubmit($("note-form"), async () => {
      required("note-text");
      await api("POST", `/api/orders/${id}/notes`, { text: $("note-text").value.trim() });
      $("note-text").value = "";
      await notes();
    });
    let lastStatus = null;
    live(LIVE_MS, async () => {
      current = await api("GET", `/api/orders/${id}`);
      await learnNames([current.volunteer_id, ...current.timeline.map((e) => e.volunteer_id)]);
      render(current);
      // Candidates change with the order's step, not every few seconds (they cost a query each).
      if (current.status !== lastStatus) { lastStatus = current.status; await candidates(); }
      await notes();
      stamp();
    });
  }

  // --- escalations --------------------------------------------------------------------------
  async function escalations() {
    const refresh = async () => {
      const page = await api("GET", `/api/escalations?${query({ open_only: $("open-only").checked, limit: 100 })}`);
      table($("esc-body"), page.items, [
        (e) => orderLink(e.order_id, e.order_number), (e) => String(e.level), (e) => time(e.at), (e) => e.township,
        (e) => STATUS[e.order_status] || e.order_status, (e) => time(e.deadline_at),
      ], { empty: _("没有督办记录"), key: (e) => `${e.order_id}-${e.level}` });
    };
    $("open-only").addEventListener("change", () => refresh().catch(showError));
    live(5000, refresh);
  }

  // --- complaints ---------------------------------------------------------------------------
  async function complaints() {
    let chosen = null;
    const refresh = async () => {
      const page = await api("GET", `/api/complaints?${query({ status: $("c-status").value, limit: 100 })}`);
      table($("complaints-body"), page.items, [
        (c) => orderLink(c.order_id, c.order_number), (c) => c.item_name, (c) => c.township, (c) => c.note || "—", (c) => time(c.created_at),
        (c) => (c.status === "open"
          ? action(_("处理"), App.spoken(c.order_number), async () => { choose(c); }, { class: "secondary" })
          : `${_("已处理")}：${c.resolution || ""}`),
      ], { empty: _("没有投诉") });
    };
    function choose(c) {
      chosen = c;
      $("resolve-order").textContent = App.spoken(c.order_number);
      $("resolve-said").textContent = c.note ? _("居民反映：{text}").replace("{text}", c.note) : "";
      $("resolve-form").hidden = false;
      $("resolve-notes").focus();
    }
    $("resolve-cancel").addEventListener("click", () => { $("resolve-form").hidden = true; chosen = null; });
    onSubmit($("resolve-form"), async () => {
      required("resolve-notes");
      await api("POST", `/api/complaints/${chosen.id}/resolve`, { notes: $("resolve-notes").value.trim() });
      $("resolve-notes").value = "";
      $("resolve-form").hidden = true;
      await refresh();
    });
    $("c-status").addEventListener("change", () => refresh().catch(showError));
    live(5000, refresh);
  }

  // --- volunteers: applications, pause, transfer --------------------------------------------
  async function volunteers() {
    const [units] = await Promise.all([everything("/api/units"), skillMenu()]);
    for (const u of units.filter((x) => x.active)) $("transfer-unit").append(new Option(u.name, String(u.id)));
    const unitName = (id) => units.find((u) => u.id === id)?.name || "—";
    let moving = null;
    const refresh = async () => {
      const [apps, vols] = await Promise.all([
        // Every volunteer on record, page by page: one just registered is never left off.
        api("GET", "/api/volunteers?application=pending&limit=200"), everything("/api/volunteers"),
      ]);
      table($("apps-body"), apps.items, [
        (v) => v.name, (v) => v.township, (v) => skillList(v.skills), (v) => time(v.created_at),
        (v) => el("span", { class: "actions" },
          action(_("批准"), v.name, async () => { await api("POST", `/api/volunteers/${v.id}/approve`); await refresh(); }),
          action(_("不批准"), v.name, async () => { await api("POST", `/api/volunteers/${v.id}/refuse`); await refresh(); }, { class: "secondary" })),
      ], { empty: _("没有待审核的申请") });
      table($("vols-body"), vols.filter((v) => v.active), [
        (v) => v.name, (v) => v.township, (v) => unitName(v.unit_id), (v) => `${v.open_orders}/${v.max_open_orders}`,
        (v) => String(v.completed_orders), (v) => (v.paused ? _("暂停接单") : _("可接单")),
        (v) => el("span", { class: "actions" },
          el("a", { class: "button secondary", href: `/console/volunteers/${v.id}`, "aria-label": `${_("修改")}：${v.name}` }, _("修改")),
          action(v.paused ? _("恢复接单") : _("暂停接单"), v.name, async () => {
            await api("PATCH", `/api/volunteers/${v.id}`, { paused: !v.paused });
            await refresh();
          }, { class: "secondary" }),
          action(_("转接"), v.name, async () => {
            moving = v;
            $("transfer-name").textContent = v.name;
            $("transfer-unit").value = v.unit_id ? String(v.unit_id) : "";
            $("transfer-form").hidden = false;
            $("transfer-unit").focus();
          }, { class: "secondary" })),
      ], { empty: _("暂无志愿者") });
    };
    $("transfer-cancel").addEventListener("click", () => { $("transfer-form").hidden = true; });
    onSubmit($("transfer-form"), async () => {
      const unit = $("transfer-unit").value;
      await api("POST", `/api/volunteers/${moving.id}/transfer`, { unit_id: unit ? Number(unit) : null, note: $("transfer-note").value.trim() || null });
      $("transfer-form").hidden = true;
      $("transfer-note").value = "";
      await refresh();
    });
    live(5000, refresh);
  }

  // --- one volunteer: registration (登记注册) and corrections ----------------------------------
  async function volunteer() {
    const form = $("volunteer-form");
    const id = form.dataset.editing === "true" ? location.pathname.split("/").filter(Boolean).pop() : null;
    const [{ categories }, units, before] = await Promise.all([
      skillMenu(), everything("/api/units"), id ? api("GET", `/api/volunteers/${id}`) : null, fillTownships($("township"), { mine: true }),
    ]);
    for (const u of units.filter((x) => x.active)) $("unit_id").append(new Option(`${u.name}（${u.township}）`, String(u.id)));
    async function villages(chosen) {
      const [place] = await api("GET", `/api/places?${query({ township: $("township").value })}`);
      $("village_id").replaceChildren(new Option(_("不指定"), ""), ...(place?.villages || []).map((v) => new Option(v.name, String(v.id))));
      $("village_id").value = chosen ? String(chosen) : "";
    }
    // A category's own box means the whole category; skills off the menu stay choosable.
    let n = 0;
    const box = (code, name) => {
      n += 1;
      return el("label", { htmlFor: `skill-${n}` }, el("input", { type: "checkbox", id: `skill-${n}`, value: code }), name);
    };
    const offMenu = (before?.skills || []).filter((code) => !categories.some((c) => c.code === code || c.items.some((i) => i.code === code)));
    $("skill-groups").replaceChildren(...categories.map((c) => el(
      "fieldset", {}, el("legend", {}, c.name),
      el("div", { class: "choices" }, box(c.code, _("{name}（全部）").replace("{name}", c.name)), ...c.items.map((i) => box(i.code, i.name))),
    )), ...(offMenu.length ? [el("fieldset", {}, el("legend", {}, _("不在菜单上的服务")),
      el("div", { class: "choices" }, ...offMenu.map((code) => box(code, skillName(code)))))] : []));
    if (before) {
      $("name").value = before.name;
      $("phone-now").textContent = before.phone;
      $("township").value = before.township;
      $("unit_id").value = before.unit_id ? String(before.unit_id) : "";
      $("max_open_orders").value = String(before.max_open_orders);
      for (const input of $("skill-groups").querySelectorAll("input")) input.checked = before.skills.includes(input.value);
    }
    await villages(before?.village_id);
    $("township").addEventListener("change", () => villages(null).catch(showError));
    let unitNow = before?.unit_id ?? null;
    onSubmit(form, async () => {
      $("volunteer-saved").textContent = "";
      required(...(id ? ["name"] : ["name", "phone"]));
      const unit = $("unit_id").value ? Number($("unit_id").value) : null;
      const body = {
        name: $("name").value.trim(), township: $("township").value,
        village_id: $("village_id").value ? Number($("village_id").value) : null,
        max_open_orders: Number($("max_open_orders").value),
        skills: [...$("skill-groups").querySelectorAll("input:checked")].map((input) => input.value),
      };
      const phone = $("phone").value.trim();
      try {
        if (!id) {
          await api("POST", "/api/volunteers", { ...body, phone, unit_id: unit });
          location.assign("/console/volunteers");
          return;
        }
        let saved = await api("PATCH", `/api/volunteers/${id}`, phone ? { ...body, phone } : body);
        // A new unit is a transfer (关系转接): the volunteer's history of units keeps it.
        if (unit !== unitNow) saved = await api("POST", `/api/volunteers/${id}/transfer`, { unit_id: unit });
        unitNow = saved.unit_id ?? null;
        $("phone").value = "";
        $("phone-now").textContent = saved.phone;
        $("volunteer-saved").textContent = _("已保存：{name}").replace("{name}", saved.name);
      } catch (err) {
        if (err.code === "DuplicatePhone") err.fields = ["phone"];
        throw err;
      }
    });
  }

  // --- units --------------------------------------------------------------------------------
  async function units() {
    for (const [code, label] of Object.entries(UNIT_KINDS)) $("unit-kind").append(new Option(label, code));
    await fillTownships($("unit-township"));
    const refresh = async () => {
      table($("units-body"), await everything("/api/units"), [
        (u) => u.name, (u) => UNIT_KINDS[u.kind] || u.kind, (u) => u.township, (u) => String(u.members),
        (u) => (u.leader_id ? _("志愿者 {id}").replace("{id}", u.leader_id) : _("未指定")),
        (u) => (u.active ? _("在用") : _("已停用")),
      ], { empty: _("暂无服务队") });
    };
    onSubmit($("unit-form"), async () => {
      required("unit-name");
      await api("POST", "/api/units", { kind: $("unit-kind").value, name: $("unit-name").value.trim(), township: $("unit-township").value });
      $("unit-name").value = "";
      await refresh();
    });
    live(5000, refresh);
  }

  // --- staff accounts -----------------------------------------------------------------------
  async function staff() {
    for (const [code, label] of Object.entries(ROLES)) $("staff-role").append(new Option(label, code));
    const townships = await api("GET", "/api/townships");
    const boxes = (holder, prefix) => holder.replaceChildren(...townships.map((t, i) => el(
      "label", { htmlFor: `${prefix}-${i}` }, el("input", { type: "checkbox", id: `${prefix}-${i}`, value: t.name }), t.name,
    )));
    boxes($("staff-townships"), "st");
    boxes($("scope-townships"), "sc");
    const ticked = (holder) => [...holder.querySelectorAll("input:checked")].map((i) => i.value);
    let editing = null;
    const patch = async (s, body) => { await api("PATCH", `/api/staff/${s.id}`, body); await refresh(); };
    async function refresh() {
      table($("staff-body"), await everything("/api/staff"), [
        (s) => s.username, (s) => ROLES[s.role] || s.role, (s) => (s.townships && s.townships.length ? s.townships.join("、") : _("全县")),
        (s) => [s.active ? _("在用") : _("已停用"), s.locked ? _("已锁定") : ""].filter(Boolean).join("，"),
        (s) => el("span", { class: "actions" },
          action(s.active ? _("停用") : _("启用"), s.username,
            () => patch(s, { active: !s.active }), { class: "secondary" }),
          s.locked ? action(_("解锁"), s.username, () => patch(s, { unlock: true }), { class: "secondary" }) : null,
          action(_("改乡镇"), s.username, async () => {
            editing = s;
            $("scope-name").textContent = s.username;
            for (const box of $("scope-townships").querySelectorAll("input")) box.checked = (s.townships || []).includes(box.value);
            $("scope-form").hidden = false;
            $("scope-townships").querySelector("input")?.focus();
          }, { class: "secondary" })),
      ], { empty: _("暂无账号") });
    }
    $("scope-cancel").addEventListener("click", () => { $("scope-form").hidden = true; });
    onSubmit($("scope-form"), async () => {
      await patch(editing, { townships: ticked($("scope-townships")) });
      $("scope-form").hidden = true;
    });
    onSubmit($("staff-form"), async () => {
      required("staff-username", "staff-password");
      const chosen = ticked($("staff-townships"));
      try {
        await api("POST", "/api/staff", {
          username: $("staff-username").value.trim(), password: $("staff-password").value,
          role: $("staff-role").value, townships: chosen.length ? chosen : null,
        });
      } catch (err) {
        // Words about one field go next to it (the API names the body's fields).
        const named = { WeakPassword: ["password"], DuplicateUsername: ["username"] }[err.code] || err.fields;
        err.fields = named.map((f) => `staff-${f}`);
        throw err;
      }
      $("staff-form").reset();
      await refresh();
    });
    live(5000, refresh);
  }

  // --- the catalog editor -------------------------------------------------------------------
  async function catalog() {
    const categories = await api("GET", "/api/catalog");
    for (const c of categories) $("item-category").append(new Option(c.name, c.code));
    const categoryName = (code) => categories.find((c) => c.code === code)?.name || code;
    let renaming = null;
    async function refresh() {
      itemNames = null;
      table($("items-body"), await items(), [
        (i) => i.name, (i) => categoryName(i.category_code),
        (i) => (i.active ? _("在菜单上") : _("已停用")),
        (i) => el("span", { class: "actions" },
          action(_("改名"), i.name, async () => {
            renaming = i;
            $("rename-was").textContent = i.name;
            $("rename-name").value = i.name;
            $("rename-name-en").value = i.name_en;
            $("rename-form").hidden = false;
            $("rename-name").focus();
          }, { class: "secondary" }),
          action(i.active ? _("停用") : _("启用"), i.name, async () => {
            await api("PATCH", `/api/catalog/items/${i.code}`, { active: !i.active });
            await refresh();
          }, { class: "secondary" })),
      ], { key: (i) => i.code });
    }
    $("rename-cancel").addEventListener("click", () => { $("rename-form").hidden = true; });
    onSubmit($("rename-form"), async () => {
      required("rename-name", "rename-name-en");
      await api("PATCH", `/api/catalog/items/${renaming.code}`, { name: $("rename-name").value.trim(), name_en: $("rename-name-en").value.trim() });
      $("rename-form").hidden = true;
      await refresh();
    });
    onSubmit($("item-form"), async () => {
      required("item-code", "item-name", "item-name-en");
      await api("POST", "/api/catalog/items", {
        category_code: $("item-category").value, code: $("item-code").value.trim(),
        name: $("item-name").value.trim(), name_en: $("item-name-en").value.trim(),
      });
      for (const id of ["item-code", "item-name", "item-name-en"]) $(id).value = "";
      await refresh();
    });
    await refresh();
  }

  const PAGES = { board, orders, order, escalations, complaints, volunteers, volunteer, units, staff, catalog };
  // Pages on the console's layout with a script of their own (the supervision screen) start
  // themselves.
  const page = PAGES[document.body.dataset.page];
  if (page) start(async () => { try { await page(); } catch (err) { showError(err); } });
  return PAGES;
})();

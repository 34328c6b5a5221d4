// An order's fields, shared by the resident's form (resident.js) and the one staff fill in
// for a caller (call_center_order.js): the service menu as tiles with a search in people's
// own words, township and village pickers, and sending the order once. Loaded after common.js.
"use strict";
window.OrderForm = (() => {
  const { _, $, api, showError, fieldError } = App;
  const english = App.data.lang === "en";
  const named = (thing) => (english && thing.name_en) || thing.name;
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  };

  // The commonest needs of a rural county's residents, many of them elderly (DOMAIN.md),
  // first as tiles (and on the keypad line's menu): core/service_words.py. Codes a deployment
  // has removed simply do not show.
  const COMMON = App.data.common_items;
  // Words people use for these needs, so the search finds 代购代办 when they type 买药, and
  // what cuts a search into terms: both from core/service_words.py, whose rule search() follows.
  const WORDS = App.data.service_words;
  const SEPARATORS = new RegExp(App.data.service_separators);
  // Icons drawn for the common items; the others show their category's icon.
  const ITEM_ICONS = new Set(["care.elderly_visit", "care.errands", "care.disability", "neighbourhood.repairs",
    "neighbourhood.haircut", "science.smartphone"]);
  const CATEGORY_ICONS = new Set(["theory", "civility", "education", "science", "agritech", "culture", "fitness",
    "environment", "health", "care", "legal", "rescue", "neighbourhood"]);
  const icon = (item, category) => {
    const file = ITEM_ICONS.has(item) ? item : (CATEGORY_ICONS.has(category) ? category : "service");
    return `/static/img/services/${file}.svg`;
  };

  // The menu as the API has it, with each item's category: the home list names services too.
  async function menu() {
    const catalog = await api("GET", "/api/catalog");
    const items = new Map();
    for (const category of catalog) for (const item of category.items) items.set(item.code, { ...item, category });
    return { catalog, items };
  }

  function tile(item) {
    const input = el("input", { type: "radio", name: "item_code", value: item.code });
    const label = el("label", { className: "tile" }, input,
      el("img", { src: icon(item.code, item.category.code), alt: "", width: 48, height: 48 }),
      el("span", { textContent: named(item) }));
    // What the search matches: both languages' names, the category, people's own words.
    label.dataset.words = [item.name, item.name_en, item.category.name, item.category.name_en, WORDS[item.code] || ""]
      .join(" ").toLowerCase();
    return label;
  }

  function buildMenu(catalog, items) {
    const common = COMMON.filter((code) => items.has(code));
    $("common").replaceChildren(...common.map((code) => tile(items.get(code))));
    $("common-title").hidden = common.length === 0;
    $("by-category").replaceChildren(...catalog.map((category) => {
      const rest = category.items.filter((item) => !common.includes(item.code));
      if (!rest.length) return null;
      const section = el("section", { className: "menu-group" },
        el("h3", { className: "menu-title", textContent: named(category) }),
        el("div", { className: "tiles" }, ...rest.map((item) => tile(items.get(item.code)))));
      return section;
    }).filter(Boolean));
  }

  // Typing narrows the tiles; Enter picks the only match (or goes to the first of several)
  // instead of submitting the form. A search that finds nothing says so.
  function search() {
    const box = $("service-search");
    const tiles = () => [...document.querySelectorAll("#service-menu .tile")];
    const apply = () => {
      // "#1" or "买药" alike: stray marks are dropped; a term matches a service's names, or
      // contains one of the words people use for it ("帮我买药" finds 代购代办).
      const terms = box.value.toLowerCase().split(SEPARATORS).filter(Boolean);
      const asked = box.value.trim() !== "";
      let shown = 0;
      for (const t of tiles()) {
        const hit = terms.length > 0 && terms.every((term) => t.dataset.words.includes(term)
          || t.dataset.words.split(" ").some((word) => word.length > 1 && /[^\x00-\x7f]/.test(word) && term.includes(word)));
        t.hidden = asked && !hit;
        if (!t.hidden) shown += 1;
      }
      for (const group of document.querySelectorAll("#service-menu .tiles")) {
        const title = group.previousElementSibling;
        if (title) title.hidden = ![...group.children].some((t) => !t.hidden);
      }
      // The rest of the menu opens when the search finds something there.
      if (asked) $("more").open = [...$("by-category").querySelectorAll(".tile")].some((t) => !t.hidden);
      $("search-result").textContent = !asked ? ""
        : shown ? _("找到 {n} 项服务").replace("{n}", shown)
          : _("没有找到“{q}”，请换个说法，或在下面的全部服务里找。").replace("{q}", box.value.trim());
      return tiles().filter((t) => !t.hidden);
    };
    box.addEventListener("input", apply);
    box.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      const found = apply();
      if (!found.length) { box.value && box.select(); return; }
      const radio = found[0].querySelector("input");
      if (found.length === 1) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
      radio.focus();
    });
  }

  async function villages(township) {
    const select = $("village_id");
    select.replaceChildren(new Option(township ? _("不清楚，不选") : _("请先选乡镇"), ""));
    select.disabled = true;
    if (!township) return;
    const [place] = await api("GET", `/api/places?township=${encodeURIComponent(township)}`);
    for (const v of (place && place.villages) || []) select.append(new Option(v.name, v.id));
    select.disabled = select.options.length === 1;
    $("village-hint").textContent = select.disabled ? _("这个乡镇还没有登记村（社区），不用选") : _("不清楚可以不选");
  }

  const REQUIRED = ["reason", "township", "address", "resident_name"];
  let key = null;

  // Load the menu and the townships into the form and send it when submitted. ``ready`` may
  // hold the sending back (false: it said why, e.g. asked to sign in first); ``extra`` adds
  // to the body (null: the page refused it and said why); ``placed`` gets the new order;
  // ``failed`` may deal with a refusal itself (true), else it is shown. Answers the menu's
  // items by code.
  async function wire({ extra = () => ({}), ready = async () => true, placed, failed = () => false }) {
    const [{ catalog, items }, townships] = await Promise.all([menu(), api("GET", "/api/townships")]);
    buildMenu(catalog, items);
    search();
    for (const t of townships) $("township").append(new Option(named(t), t.name));
    $("township").addEventListener("change", () => villages($("township").value).catch(showError));
    $("services").addEventListener("change", (ev) => {
      if (ev.target.name !== "item_code") return;
      fieldError("item_code", null);
      $("picked").textContent = _("您选的服务：{name}").replace("{name}", named(items.get(ev.target.value)));
      $("picked").hidden = false;
    });

    // One key per filled-in form: a double click or a retry never makes two orders,
    // while an edited form (or one restored by Back) is a new request with a new key.
    key = App.newKey();
    $("order-form").addEventListener("input", (ev) => {
      if (ev.target.id === "service-search") return;
      key = App.newKey();
      $("submit").disabled = false;
      if (ev.target.id) fieldError(ev.target.id, null);
    });
    window.addEventListener("pageshow", (ev) => { if (ev.persisted) { key = App.newKey(); $("submit").disabled = false; } });
    $("order-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(null);
      const picked = document.querySelector("input[name=item_code]:checked");
      const body = { item_code: picked ? picked.value : "" };
      const missing = [];
      if (!picked) missing.push(["item_code", _("请先选一项服务")]);
      for (const name of REQUIRED) {
        body[name] = $(name).value.trim();
        if (!body[name]) missing.push([name, _("请填写{field}").replace("{field}", document.querySelector(`label[for=${name}]`).textContent.trim())]);
      }
      if ($("village_id").value) body.village_id = Number($("village_id").value);
      if (missing.length) {
        for (const [name, message] of missing) fieldError(name, message);
        const [first] = missing[0];
        (first === "item_code" ? document.querySelector("input[name=item_code]") : $(first)).focus();
        return;
      }
      const more = extra();
      if (!more) return;
      $("submit").disabled = true;
      try {
        if (!(await ready())) { $("submit").disabled = false; return; }
        placed(await api("POST", "/api/orders", { ...body, ...more }, { "Idempotency-Key": key }));
      } catch (err) {
        $("submit").disabled = false;
        if (!failed(err)) showError(err);
      }
    });
    return items;
  }

  // Where an earlier order was (a regular caller's), put back into the place fields.
  async function fillPlace({ township, village_id, address, resident_name }) {
    if (township && $("township").value !== township) {
      $("township").value = township;
      await villages(township);
    }
    if (village_id) $("village_id").value = String(village_id);
    if (address) $("address").value = address;
    if (resident_name) $("resident_name").value = resident_name;
    for (const id of ["township", "village_id", "address", "resident_name"]) fieldError(id, null);
    key = App.newKey();
  }

  // An empty form for the next order (the service search shows the whole menu again).
  async function clear() {
    $("order-form").reset();
    $("picked").hidden = true;
    $("service-search").dispatchEvent(new Event("input"));
    await villages("");
    key = App.newKey();
    $("submit").disabled = false;
  }

  return { named, el, icon, menu, wire, fillPlace, clear };
})();

// The console's volunteer applications (/console/applications): what each newcomer wrote, in
// words (the menu's names, not codes), and one decision each: approve (they can take orders
// with the phone they signed in with) or refuse.
"use strict";
(() => {
  const { _, $, api, showError } = App;
  const { el, table, when, live, start } = Desk;
  const WEEKDAYS = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")];

  async function names() {
    const [catalog, places] = await Promise.all([api("GET", "/api/catalog"), api("GET", "/api/places")]);
    const skills = new Map();
    for (const c of catalog) {
      skills.set(c.code, c.name);
      for (const item of c.items) skills.set(item.code, item.name);
    }
    const villages = new Map(places.flatMap((p) => p.villages.map((v) => [v.id, v.name])));
    return { skills, villages };
  }

  const hours = (windows) => windows.map((w) => `${WEEKDAYS[w.weekday]} ${w.start}–${w.end}`).join("、") || _("未填写");

  async function applications() {
    const { skills, villages } = await names();
    const decide = (v, verb, label, cls) => {
      const button = el("button", { type: "button", class: cls, "aria-label": `${label}：${v.name}` }, label);
      button.addEventListener("click", async () => {
        showError(null);
        button.disabled = true;
        try {
          await api("POST", `/api/volunteers/${v.id}/${verb}`);
          $("decided").textContent = (verb === "approve" ? _("已批准：{name}") : _("已不批准：{name}")).replace("{name}", v.name);
          await refresh();
        } catch (err) { showError(err); button.disabled = false; }
      });
      return button;
    };
    async function refresh() {
      const page = await api("GET", "/api/volunteers?application=pending&limit=200");
      table($("applications-body"), page.items, [
        (v) => v.name,
        (v) => v.phone,
        (v) => v.township,
        (v) => villages.get(v.village_id) || "—",
        (v) => v.skills.map((code) => skills.get(code) || code).join("、") || _("未选"),
        (v) => hours(v.availability),
        (v) => when(v.created_at),
        (v) => el("span", { class: "actions" },
          decide(v, "approve", _("批准"), ""), decide(v, "refuse", _("不批准"), "secondary")),
      ], { empty: _("没有待审核的申请") });
    }
    await refresh();
    live(5000, refresh);
  }

  start(async () => { try { await applications(); } catch (err) { showError(err); } });
})();

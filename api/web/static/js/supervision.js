// The supervision screen (项目监管入屏端): GET /api/reports/overview every 5 s, drawn as tiles
// and four ECharts charts (canvas; tooltips drawn on the canvas too, so no HTML with inline
// styles meets the CSP), each with its figures as a table for screen readers.
"use strict";
(() => {
  const { _, $, api } = App;
  const { el, table, live, start } = Desk;
  const RATINGS = Object.entries(App.RATINGS);
  // Dark enough for 3:1 against white (WCAG 1.4.11, graphical objects).
  const COLORS = ["#0b4f9c", "#1b5e20", "#b71c1c", "#8a4b00", "#5b2c83"];
  const number = new Intl.NumberFormat(App.data.lang, { maximumFractionDigits: 1 });
  const percent = (rate) => (rate === null || rate === undefined ? "—" : `${number.format(rate * 100)}%`);
  const counties = (date) => new Intl.DateTimeFormat("en-CA", {
    timeZone: App.data.timezone, year: "numeric", month: "2-digit", day: "2-digit",
  }).format(date);  // YYYY-MM-DD in the county's zone

  const clock = new Intl.DateTimeFormat(App.data.lang, {
    timeZone: App.data.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  const charts = {};
  function chart(key) {
    if (!charts[key]) {
      charts[key] = echarts.init($(`chart-${key}`), null, { renderer: "canvas", locale: App.data.lang === "en" ? "EN" : "ZH" });
    }
    return charts[key];
  }
  window.addEventListener("resize", () => { for (const c of Object.values(charts)) c.resize(); });
  const base = {
    color: COLORS,
    animation: false,
    textStyle: { color: "#1a1a1a", fontSize: 13 },
    tooltip: { trigger: "axis", renderMode: "richText" },
    grid: { left: 16, right: 24, top: 40, bottom: 16, containLabel: true },
    legend: { top: 0, textStyle: { color: "#1a1a1a", fontSize: 13 } },
  };
  const AXIS = { axisLabel: { color: "#333", fontSize: 13 } };
  const axis = (type, more = {}) => ({ type, ...AXIS, ...more });

  // The query: a period (with its bucket size) and a township.
  function query() {
    const params = new URLSearchParams();
    const period = $("period").value;
    const year = Number(counties(new Date()).slice(0, 4));
    // County time (no offset): the API reads it in the county's zone.
    if (period === "30d") {
      params.set("from", `${counties(new Date(Date.now() - 29 * 86400000))}T00:00:00`);
      params.set("to", `${counties(new Date(Date.now() + 86400000))}T00:00:00`);
      params.set("interval", "day");
    } else {
      if (period === "year") {
        params.set("from", `${year}-01-01T00:00:00`);
        params.set("to", `${year + 1}-01-01T00:00:00`);
      }
      params.set("interval", "month");
    }
    if ($("township").value) params.set("township", $("township").value);
    return params;
  }

  // Every bucket of the period, zero where no order came in (the API lists busy ones only).
  function buckets(o) {
    const given = new Map(o.series.map((p) => [p.start, p]));
    const starts = [];
    const period = $("period").value;
    if (period === "30d") {
      for (let i = 29; i >= 0; i -= 1) starts.push(counties(new Date(Date.now() - i * 86400000)));
    } else if (period === "year") {
      const [year, month] = counties(new Date()).split("-").map(Number);
      for (let m = 1; m <= month; m += 1) starts.push(`${year}-${String(m).padStart(2, "0")}-01`);
    } else {
      starts.push(...given.keys());
    }
    return starts.map((s) => given.get(s) || { start: s, received: 0, completed: 0, completed_on_time: 0, overdue: 0 });
  }
  const label = (start) => ($("period").value === "30d" ? start.slice(5) : start.slice(0, 7));

  function heads(key, names) {
    $(`head-${key}`).replaceChildren(...names.map((n) => el("th", { scope: "col" }, n)));
  }

  function tiles(o) {
    const values = {
      received: o.received, dispatched: o.dispatched, accepted: o.accepted, completed: o.completed,
      open: o.open, overdue: o.overdue, escalated: o.escalated,
      on_time_rate: percent(o.on_time_rate), follow_up_rate: percent(o.follow_up_rate),
      complaints: `${o.complaints_resolved}/${o.complaints_opened}`,
      verified_hours: number.format(o.verified_hours), active_volunteers: o.active_volunteers,
    };
    for (const [key, value] of Object.entries(values)) $(`tile-${key}`).textContent = typeof value === "number" ? number.format(value) : value;
    // Said aloud only when it changes: what needs the center now.
    const summary = _("在办 {open} 单，其中超时 {overdue} 单、超时督办 {escalated} 单。")
      .replace("{open}", o.open).replace("{overdue}", o.overdue).replace("{escalated}", o.escalated);
    if ($("summary").textContent !== summary) $("summary").textContent = summary;
  }

  function trend(o) {
    const points = buckets(o);
    const names = [_("受理"), _("已完成服务"), _("72小时内办结"), _("超时")];
    const fields = ["received", "completed", "completed_on_time", "overdue"];
    chart("trend").setOption({
      ...base,
      xAxis: axis("category", { data: points.map((p) => label(p.start)) }),
      yAxis: axis("value", { minInterval: 1 }),
      series: fields.map((f, i) => ({
        name: names[i], type: i === 0 ? "bar" : "line", barMaxWidth: 48, symbolSize: 8, data: points.map((p) => p[f]),
      })),
    }, true);
    heads("trend", [_("时间"), ...names]);
    table($("rows-trend"), points, [(p) => label(p.start), ...fields.map((f) => (p) => number.format(p[f]))], { key: (p) => p.start });
  }

  function onTime(o) {
    const rate = o.on_time_rate === null ? 0 : Math.round(o.on_time_rate * 1000) / 10;
    chart("on-time").setOption({
      ...base,
      tooltip: { show: false },
      legend: { show: false },
      series: [{
        type: "gauge", min: 0, max: 100, progress: { show: true, width: 14 }, pointer: { show: false },
        axisLine: { lineStyle: { width: 14, color: [[1, "#e0e0e0"]] } }, itemStyle: { color: "#1b5e20" },
        axisLabel: { color: "#4a4a4a", fontSize: 12 }, splitLine: { length: 8 }, axisTick: { show: false },
        detail: { valueAnimation: false, formatter: o.on_time_rate === null ? "—" : "{value}%", fontSize: 28, color: "#1a1a1a", offsetCenter: [0, "10%"] },
        title: { offsetCenter: [0, "40%"], color: "#4a4a4a", fontSize: 13 },
        data: [{ value: rate, name: _("{n} 单中按时 {k} 单").replace("{n}", o.completed).replace("{k}", o.completed_on_time) }],
      }],
    }, true);
    heads("on-time", [_("已完成服务"), _("72小时内办结"), _("按时办结率")]);
    table($("rows-on-time"), [o], [(x) => number.format(x.completed), (x) => number.format(x.completed_on_time), (x) => percent(x.on_time_rate)], { key: () => "all" });
  }

  function ratings(o) {
    const names = [_("居民评价"), _("回访核实")];
    chart("ratings").setOption({
      ...base,
      xAxis: axis("category", { data: RATINGS.map(([, n]) => n) }),
      yAxis: axis("value", { minInterval: 1 }),
      series: [o.ratings_reviewed, o.ratings_verified].map((counts, i) => ({
        name: names[i], type: "bar", barMaxWidth: 40, data: RATINGS.map(([k]) => counts[k] || 0),
      })),
    }, true);
    heads("ratings", [_("满意程度"), ...names]);
    table($("rows-ratings"), RATINGS, [
      ([, n]) => n, ([k]) => number.format(o.ratings_reviewed[k] || 0), ([k]) => number.format(o.ratings_verified[k] || 0),
    ], { key: ([k]) => k });
  }

  function overdue(o) {
    const rows = o.by_township.filter((t) => t.overdue > 0).sort((a, b) => b.overdue - a.overdue);
    chart("overdue").setOption({
      ...base,
      legend: { show: false },
      xAxis: axis("value", { minInterval: 1 }),
      yAxis: axis("category", { inverse: true, data: rows.map((t) => t.key) }),
      series: [{ name: _("超时"), type: "bar", barMaxWidth: 32, itemStyle: { color: "#b71c1c" }, data: rows.map((t) => t.overdue), label: { show: true, position: "right", fontSize: 13 } }],
      graphic: rows.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: _("没有超时订单"), fill: "#1b5e20", fontSize: 16 } }],
    }, true);
    heads("overdue", [_("乡镇"), _("超时"), _("受理"), _("按时办结率")]);
    table($("rows-overdue"), rows, [
      (t) => t.key, (t) => number.format(t.overdue), (t) => number.format(t.received), (t) => percent(t.on_time_rate),
    ], { key: (t) => t.key, empty: _("没有超时订单") });
  }

  async function refresh() {
    const o = await api("GET", `/api/reports/overview?${query()}`);
    tiles(o);
    trend(o);
    onTime(o);
    ratings(o);
    overdue(o);
    $("updated").textContent = `${clock.format(new Date())} ${App.data.tz_label}`;
    document.body.dataset.loaded = "true";
  }

  start(async (me) => {
    try {
      const townships = await api("GET", "/api/townships");
      for (const t of townships) {
        if (me.townships === null || me.townships.includes(t.name)) $("township").append(new Option(t.name, t.name));
      }
    } catch (err) { App.showError(err); }
    // The figures on the screen, and the orders behind them, as files to forward.
    for (const [id, path] of [["export-overview-xlsx", "overview/export?format=xlsx&"], ["export-overview-csv", "overview/export?format=csv&"], ["export-orders-xlsx", "orders/export?format=xlsx&"]]) {
      $(id).addEventListener("click", async () => {
        App.showError(null);
        $(id).disabled = true;
        try { await Desk.download(`/api/reports/${path}${query()}`); } catch (err) { App.showError(err); }
        $(id).disabled = false;
      });
    }
    const again = live(5000, refresh);
    $("filters").addEventListener("change", () => { refresh().catch(App.showError); });
    $("filters").addEventListener("submit", (ev) => ev.preventDefault());
    return again;
  });
})();

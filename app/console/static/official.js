/* Health officials' pages: the city's colour counts over time, a code's history, and tracing
   with colour decisions; every tracing query and decision is audited by the API, and the page
   says so as it acts. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when} = Console;
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = [["green", "绿码"], ["yellow", "黄码"], ["red", "红码"]];
  const COLOUR_NAMES = Object.fromEntries(COLOURS);
  const SOURCES = {official: "卫健人员判定", rules: "规则自动赋码"};

  Object.assign(Console.pages, {
    async health() {
      submit($("trace"), trace);
      submit($("apply"), applyColour);
      const asked = new URLSearchParams(window.location.search);
      if (asked.get("code")) $("trace").elements.health_code_id.value = asked.get("code");
      await colourCounts(asked.get("from"), asked.get("to"));
    },

    async "health-history"() {
      $("lookup").addEventListener("submit", (event) => {
        event.preventDefault();
        history(new FormData(event.target).get("code").trim()).catch(failed);
      });
      const asked = new URLSearchParams(window.location.search).get("code");
      if (asked) {
        $("lookup").elements.code.value = asked;
        await history(asked);
      }
    },
  });

  function submit(form, action) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      action(form).catch(failed);
    });
  }

  /* ---- colour counts: a column chart per colour, each on its own scale (green dwarfs the rest) */

  // YYYY-MM-DD in Guangzhou
  const today = () => new Date().toLocaleDateString("sv-SE", {timeZone: "Asia/Shanghai"});

  function daysBefore(iso, n) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - n);
    return d.toISOString().slice(0, 10);
  }

  async function colourCounts(from, to) {
    const form = $("period");
    const last = to || today();
    form.elements.to.value = last;
    form.elements.from.value = from || daysBefore(last, 29);
    const load = () => drawCounts(form.elements.from.value, form.elements.to.value).catch(failed);
    const span = (on) => $("spans").querySelectorAll("button")
      .forEach((b) => b.classList.toggle("on", b === on));
    if (from || to) span(null);  // a period named in the address is not one of the quick spans
    form.addEventListener("submit", (event) => { event.preventDefault(); span(null); load(); });
    $("spans").addEventListener("click", (event) => {
      const days = Number(event.target.dataset.days);
      if (!days) return;
      span(event.target);
      form.elements.to.value = today();
      form.elements.from.value = daysBefore(form.elements.to.value, days - 1);
      load();
    });
    await drawCounts(form.elements.from.value, form.elements.to.value);
  }

  async function drawCounts(from, to) {
    const counts = await api.get("/admin/health-codes/colour-counts" + query({from, to}));
    notice("");
    const number = (n) => n.toLocaleString("zh-CN");
    $("colours").replaceChildren(...COLOURS.map(([key, name]) => panel(key, name, counts.days)));
    $("colour-rows").replaceChildren(...counts.days.slice().reverse().map((d) => el("tr", {},
      el("td", {}, d.date), ...COLOURS.map(([key]) => el("td", {class: "num"}, number(d[key]))))));
    $("colours-asof").textContent =
      `按人计（每人一种颜色），每日为当日结束时的人数；今天截至 ${when(counts.as_of)}。`;
  }

  function svg(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function panel(key, name, days) {
    const values = days.map((d) => d[key]);
    const latest = values[values.length - 1] || 0;
    const peak = Math.max(...values, 0), max = Math.max(peak, 1);
    const width = 100, height = 40, gap = days.length > 40 ? 0.15 : 0.4;
    const step = width / Math.max(days.length, 1);
    const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
                              class: "cols", role: "img", "aria-label": `${name}每日人数`});
    chart.append(svg("line", {x1: 0, y1: height, x2: width, y2: height, class: "axis"}));
    days.forEach((d, i) => {
      const h = d[key] ? Math.max(0.6, height * d[key] / max) : 0;
      const bar = svg("rect", {x: i * step + gap, y: height - h, height: h,
                               width: Math.max(step - 2 * gap, 0.2),
                               class: "col", "data-date": d.date, "data-value": d[key]});
      bar.append(svg("title", {}, `${d.date} ${name} ${d[key].toLocaleString("zh-CN")} 人`));
      chart.append(bar);
    });
    const ticks = days.length ? [days[0].date.slice(5), days[days.length - 1].date.slice(5)] : [];
    return el("div", {class: `colour ${key}`, "data-colour": key},
      el("div", {class: "colour-head"}, el("span", {class: "dot"}), name,
         el("strong", {class: "latest"}, latest.toLocaleString("zh-CN")),
         el("span", {class: "hint"}, "人")),
      el("div", {class: "hint"}, `期间最高 ${peak.toLocaleString("zh-CN")} 人`),
      chart, el("div", {class: "ticks"}, ...ticks.map((t) => el("span", {}, t))));
  }

  /* ---- a code's history: colour decisions and declarations of its person, newest first */

  async function history(code) {
    if (!/^[0-9]{1,19}$/.test(code)) {
      notice("请输入健康码编号（数字）", "error");
      return;
    }
    const result = await api.get(`/admin/health-codes/${code}/history`);
    notice("");
    $("history").hidden = false;
    $("history-code").textContent = code;
    $("trace-link").href = "/console/health" + query({code});
    const latest = result.items.find((i) => i.type === "colour_change");
    $("history-now").replaceChildren(latest
      ? el("span", {class: `badge ${latest.to}`}, `最近一次赋码：${COLOUR_NAMES[latest.to]}`)
      : el("span", {class: "hint"}, "暂无赋码记录"));
    $("timeline").replaceChildren(...result.items.map(entry));
    if (!result.items.length) $("timeline").append(el("li", {class: "empty"}, "暂无记录"));
  }

  function entry(item) {
    const at = el("time", {datetime: item.at}, when(item.at));
    if (item.type === "colour_change") {
      const to = COLOUR_NAMES[item.to];
      const move = item.from ? `${COLOUR_NAMES[item.from]} → ${to}` : `首次赋码：${to}`;
      return el("li", {class: `change ${item.to}`, "data-type": "colour_change"}, at,
        el("span", {class: "tag"}, SOURCES[item.source] || item.source),
        el("span", {class: "what"}, move, "（", item.reason.message, "）"),
        item.note ? el("span", {class: "note"}, "说明：", item.note) : "");
    }
    const flags = [item.symptoms.length ? "症状：" + item.symptoms.join("、") : "无症状",
                   item.risk_area_visit_14d ? "14 天内到过风险地区" : "",
                   item.case_contact_14d ? "14 天内接触过病例" : ""];
    return el("li", {class: "declaration", "data-type": "declaration"}, at,
      el("span", {class: "tag"}, "健康申报"),
      el("span", {class: "what"}, `体温 ${item.temperature_c.toFixed(1)}℃ · `,
         flags.filter(Boolean).join(" · ")));
  }

  /* ---- tracing: the query and every decision are audited by the API */

  async function trace(form) {
    const data = Object.fromEntries(new FormData(form));
    const iso = (local) => new Date(local).toISOString();
    const result = await api.post("/admin/tracing", {
      health_code_id: data.health_code_id, purpose: data.purpose, since: iso(data.since),
      until: iso(data.until), window_minutes: Number(data.window_minutes)});
    $("result").hidden = false;
    $("contact-count").textContent = result.contact_count;
    $("contacts").replaceChildren(...result.contacts.map((c) => el("tr", {},
      el("td", {}, el("input", {type: "checkbox", value: c.health_code_id, "aria-label": "选择"})),
      el("td", {}, c.health_code_id), el("td", {}, c.holder),
      el("td", {}, c.venue.name), el("td", {}, when(c.visit_at)))));
    notice("查询已记入审计日志", "ok");
  }

  async function applyColour(form) {
    const ids = [...document.querySelectorAll("#contacts input:checked")].map((i) => i.value);
    if (!ids.length) {
      notice("请先勾选密接者", "error");
      return;
    }
    const reason = new FormData(form).get("reason");
    const applied = await api.post("/admin/tracing/apply", {health_code_ids: ids, reason});
    notice(`已为 ${applied.items.length} 人赋黄码，操作已记入审计日志（原因：${reason}）`, "ok");
  }
})();

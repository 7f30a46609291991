/* Each console page's script, chosen by <body data-page>. Pages read and act only through the API. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when} = Console;
  const $ = (id) => document.getElementById(id);

  const ROLE_NAMES = {admin: "管理员", organiser: "组织者", health_official: "卫健人员", venue_staff: "场所工作人员",
                      resident: "居民", volunteer: "志愿者"};

  function staffAreas(user, roles) {
    return user.roles.filter((g) => roles.includes(g.role)).map((g) => g.area);
  }

  async function statsChart(container, area, by) {
    const stats = await api.get("/stats/volunteers" + query({area, by}));
    const rows = stats.rows.map((r) => ({label: r.name, value: r.count}));
    Charts.bars(container, rows.sort((a, b) => b.value - a.value).slice(0, 30));
    return stats.total;
  }

  const pages = {
    login() {
      $("login").addEventListener("submit", async (event) => {
        event.preventDefault();
        const form = new FormData(event.target);
        try {
          await Console.login(form.get("username"), form.get("password"), form.get("totp"));
          window.location.assign("/console/");
        } catch (error) {
          $("error").textContent = error.message;
          $("error").hidden = false;
        }
      });
    },

    async home(user) {
      $("grants").replaceChildren(...user.roles.map((g) => el("li", {}, `${ROLE_NAMES[g.role] || g.role} · 区域 ${g.area}`)));
      const areas = staffAreas(user, ["organiser", "admin"]);
      if (!areas.length) return;
      $("overview").hidden = false;
      $("total").textContent = (await statsChart($("overview-chart"), areas[0], "street")).toLocaleString("zh-CN");
    },

    async volunteers(user) {
      const areas = staffAreas(user, ["organiser", "admin"]);
      const asked = new URLSearchParams(window.location.search).get("area");  // a link to one area's figures
      if (asked && !areas.includes(asked)) areas.unshift(asked);
      $("area").replaceChildren(...areas.map((a) => el("option", {value: a}, a)));
      let by = "street", cursor = null;
      const draw = async () => {
        $("total").textContent = (await statsChart($("chart"), $("area").value, by)).toLocaleString("zh-CN");
      };
      const search = async (more) => {
        const q = new FormData($("search")).get("q");
        const result = await api.get("/volunteers" + query({area: $("area").value, q, cursor: more ? cursor : null}));
        const rows = result.items.map((v) => el("tr", {}, el("td", {}, v.real_name), el("td", {}, v.phone),
          el("td", {}, v.grid), el("td", {}, v.trade), el("td", {}, when(v.created_at))));
        if (more) $("rows").append(...rows); else $("rows").replaceChildren(...rows);
        cursor = result.next_cursor;
        $("more").hidden = !cursor;
      };
      $("dims").addEventListener("click", (event) => {
        if (!event.target.dataset.by) return;
        by = event.target.dataset.by;
        $("dims").querySelectorAll("button").forEach((b) => b.classList.toggle("on", b === event.target));
        draw().catch(failed);
      });
      $("area").addEventListener("change", () => Promise.all([draw(), search(false)]).catch(failed));
      $("search").addEventListener("submit", (event) => { event.preventDefault(); search(false).catch(failed); });
      $("more").addEventListener("click", () => search(true).catch(failed));
      $("export").addEventListener("click", async () => {
        const link = el("a", {href: await api.blob("/volunteers/export.csv" + query({area: $("area").value})),
                              download: `volunteers-${$("area").value}.csv`});
        link.click();
      });
      await Promise.all([draw(), search(false)]);
    },

    async patrols() {
      const list = await api.get("/patrols" + query({limit: 50}));
      $("patrols").replaceChildren(...list.items.map((p) => el("tr", {},
        el("td", {}, p.title), el("td", {}, when(p.starts_at)), el("td", {}, `${p.signed_up}/${p.capacity}`),
        el("td", {}, {scheduled: "未开始", cancelled: "已取消", closed: "已结束"}[p.status] || p.status),
        el("td", {}, el("button", {type: "button", on: {click: () => showPatrol(p).catch(failed)}}, "名单与签到码")))));
    },

    async leaderboards(user) {
      const areas = staffAreas(user, ["organiser", "admin"]);
      $("area").value = areas[0] || "";
      const show = async () => {
        const board = await api.get("/leaderboards" + query({scope: $("scope").value, id: $("area").value,
                                                            period: $("period").value, limit: 20}));
        Charts.bars($("chart"), board.items.map((r) => ({label: `${r.rank}. ${r.name || "志愿者"}`, value: r.points})),
                    {unit: " 分"});
      };
      $("show").addEventListener("click", () => show().catch(failed));
      await show();
    },

    async health() {
      $("trace").addEventListener("submit", (event) => { event.preventDefault(); trace(event.target).catch(failed); });
      $("apply").addEventListener("submit", (event) => { event.preventDefault(); applyColour(event.target).catch(failed); });
    },

    async venues(user) {
      const area = staffAreas(user, ["organiser", "health_official", "admin"])[0];
      const list = await api.get("/venues" + query({area, limit: 50}));
      $("venues").replaceChildren(...list.items.map((v) => el("tr", {},
        el("td", {}, v.name), el("td", {}, v.address), el("td", {}, v.area),
        el("td", {}, el("button", {type: "button", on: {click: () => showVenue(v).catch(failed)}}, "海报与到访")))));
    },
  };

  async function showPatrol(patrol) {
    $("detail").hidden = false;
    $("detail-title").textContent = patrol.title;
    const roster = await api.get(`/patrols/${patrol.id}/signups` + query({limit: 100}));
    $("roster").replaceChildren(...roster.items.map((s) => el("tr", {}, el("td", {}, s.name),
      el("td", {}, s.status === "waitlisted" ? `候补第 ${s.position} 位` : {active: "已报名", cancelled: "已取消"}[s.status]))));
    $("checkin-qr").src = await api.blob(`/patrols/${patrol.id}/checkin-code.png`);
  }

  async function showVenue(venue) {
    $("detail").hidden = false;
    $("detail-title").textContent = venue.name;
    const today = new Date().toLocaleDateString("sv-SE", {timeZone: "Asia/Shanghai"});  // YYYY-MM-DD
    const stats = await api.get(`/venues/${venue.id}/stats` + query({date: today}));
    Charts.bars($("hours"), stats.by_hour.map((h) => ({label: `${h.hour}时`, value: h.total})), {unit: " 人次"});
    const poster = await api.blob(`/venues/${venue.id}/poster.png`);
    $("poster").src = poster;
    $("poster-download").href = poster;
    $("poster-download").download = `poster-${venue.id}.png`;
  }

  async function trace(form) {
    const data = Object.fromEntries(new FormData(form));
    const iso = (local) => new Date(local).toISOString();
    const result = await api.post("/admin/tracing", {health_code_id: data.health_code_id, purpose: data.purpose,
      since: iso(data.since), until: iso(data.until), window_minutes: Number(data.window_minutes)});
    $("result").hidden = false;
    $("contact-count").textContent = result.contact_count;
    $("contacts").replaceChildren(...result.contacts.map((c) => el("tr", {},
      el("td", {}, el("input", {type: "checkbox", value: c.health_code_id})), el("td", {}, c.health_code_id),
      el("td", {}, c.holder), el("td", {}, c.venue.name), el("td", {}, when(c.visit_at)))));
    notice("查询已记入审计日志", "ok");
  }

  async function applyColour(form) {
    const ids = [...document.querySelectorAll("#contacts input:checked")].map((i) => i.value);
    if (!ids.length) { notice("请先勾选密接者", "error"); return; }
    const applied = await api.post("/admin/tracing/apply", {health_code_ids: ids, reason: new FormData(form).get("reason")});
    notice(`已为 ${applied.length} 人赋黄码，操作已记入审计日志`, "ok");
  }

  const name = document.body.dataset.page;
  if (name === "login") { pages.login(); return; }
  Console.frame().then((user) => user && pages[name] && pages[name](user)).catch(failed);
})();

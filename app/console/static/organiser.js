/* Organisers' pages: volunteers in the area, patrols, leaderboards. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas, statsChart} = Console;
  const $ = (id) => document.getElementById(id);

  Object.assign(Console.pages, {
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
  });

  async function showPatrol(patrol) {
    $("detail").hidden = false;
    $("detail-title").textContent = patrol.title;
    const roster = await api.get(`/patrols/${patrol.id}/signups` + query({limit: 100}));
    $("roster").replaceChildren(...roster.items.map((s) => el("tr", {}, el("td", {}, s.name),
      el("td", {}, s.status === "waitlisted" ? `候补第 ${s.position} 位` : {active: "已报名", cancelled: "已取消"}[s.status]))));
    $("checkin-qr").src = await api.blob(`/patrols/${patrol.id}/checkin-code.png`);
  }
})();

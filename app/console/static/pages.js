/* The console's common pages: sign-in and the dashboard, with the helpers role pages share. Each role's pages live
   in a file of their own (organiser.js, official.js, venue.js, dispatch.js) that adds to Console.pages; run.js starts
   the one <body data-page> names. Pages read and act only through the API. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when} = Console;
  const $ = (id) => document.getElementById(id);

  const ROLE_NAMES = {admin: "管理员", organiser: "组织者", health_official: "卫健人员", venue_staff: "场所工作人员",
                      resident: "居民", volunteer: "志愿者", community_staff: "社区工作人员",
                      street_staff: "街道工作人员", department_staff: "职能部门工作人员"};

  function staffAreas(user, roles) {
    return user.roles.filter((g) => roles.includes(g.role)).map((g) => g.area);
  }

  async function statsChart(container, area, by) {
    const stats = await api.get("/stats/volunteers" + query({area, by}));
    const rows = stats.rows.map((r) => ({label: r.name, value: r.count}));
    Charts.bars(container, rows.sort((a, b) => b.value - a.value).slice(0, 30));
    return stats.total;
  }

  Object.assign(Console.pages, {
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
  });

  Console.staffAreas = staffAreas;
  Console.statsChart = statsChart;
})();

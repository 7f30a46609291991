/* Organisers' pages: volunteers in the area, join requests, patrols (roster, check-in code, hours),
   leaderboards, and the admins' volunteer import. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas, statsChart} = Console;
  const $ = (id) => document.getElementById(id);
  const STAFF = ["organiser", "admin"];
  const STATUS = {scheduled: "已发布", cancelled: "已取消", closed: "已结束"};
  const JOB_STATES = {queued: "排队中", running: "导入中", done: "已完成", failed: "失败"};

  async function save(path, filename) {
    el("a", {href: await api.blob(path), download: filename}).click();
  }

  /** Fill the area <select> with the caller's areas (and ?area=, which the API judges). */
  function areaPicker(user) {
    const areas = staffAreas(user, STAFF);
    const asked = new URLSearchParams(window.location.search).get("area");
    if (asked && !areas.includes(asked)) areas.unshift(asked);
    $("area").replaceChildren(...areas.map((a) => el("option", {value: a}, a)));
  }

  /** A keyset list: load(false) redraws the first page into tbody, load(true) adds the next. */
  function pager(tbody, params, row, onEmpty) {
    let cursor = null, latest = 0;
    const load = async (more) => {
      const [path, args] = params(), asked = ++latest;
      const page = await api.get(path + query({...args, cursor: more ? cursor : null}));
      if (asked !== latest) return;  // a later load (another area or filter) has taken over
      const rows = page.items.map(row);
      if (more) tbody.append(...rows); else tbody.replaceChildren(...rows);
      cursor = page.next_cursor;
      $("more").hidden = !cursor;
      if (onEmpty) onEmpty(!tbody.children.length);
    };
    $("more").addEventListener("click", () => load(true).catch(failed));
    return load;
  }

  const onSubmit = (id, fn) => $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    fn(event.target).catch(failed);
  });
  const button = (label, fn, attrs) =>
    el("button", {type: "button", ...attrs, on: {click: () => fn().catch(failed)}}, label);

  Object.assign(Console.pages, {
    async volunteers(user) {
      areaPicker(user);
      let by = "street";
      const draw = async () => {
        const total = await statsChart($("chart"), $("area").value, by);
        $("total").textContent = total.toLocaleString("zh-CN");
      };
      const asked = () => ["/volunteers", {area: $("area").value,
                                           q: new FormData($("search")).get("q")}];
      const search = pager($("rows"), asked, (v) => el("tr", {},
        el("td", {}, v.real_name), el("td", {}, v.phone), el("td", {}, v.grid),
        el("td", {}, v.trade), el("td", {}, when(v.created_at))));
      $("dims").addEventListener("click", (event) => {
        if (!event.target.dataset.by) return;
        by = event.target.dataset.by;
        $("dims").querySelectorAll("button")
          .forEach((b) => b.classList.toggle("on", b === event.target));
        draw().catch(failed);
      });
      $("area").addEventListener("change",
                                 () => Promise.all([draw(), search(false)]).catch(failed));
      onSubmit("search", () => search(false));
      for (const [id, ext] of [["export", "csv"], ["export-xlsx", "xlsx"]]) {
        $(id).addEventListener("click", () => {
          const area = $("area").value;
          save(`/volunteers/export.${ext}` + query({area}), `volunteers-${area}.${ext}`)
            .catch(failed);
        });
      }
      await Promise.all([draw(), search(false)]);
    },

    async groups(user) {
      areaPicker(user);
      const asked = () => ["/groups/pending", {area: $("area").value, limit: 50}];
      const load = pager($("groups"), asked,
        (g) => el("tr", {}, el("td", {}, g.name), el("td", {class: "pending"}, g.pending),
                  el("td", {class: "act"}, button("审批", () => showRequests(g))),
                  el("td", {}, g.area_name || g.area)),
        (empty) => { $("none").hidden = !empty; });
      $("area").addEventListener("change", () => load(false).catch(failed));
      await load(false);
    },

    async patrols(user) {
      areaPicker(user);
      const asked = () => ["/patrols", {area: $("area").value, limit: 50,
                                        open: $("open").checked || null}];
      const load = pager($("patrols"), asked,
        (p) => el("tr", {}, el("td", {}, p.title), el("td", {}, when(p.starts_at)),
                  el("td", {}, `${p.signed_up}/${p.capacity}`),
                  el("td", {class: "act"}, button("详情", () => showPatrol(p))),
                  el("td", {}, STATUS[p.status] || p.status)),
        (empty) => { $("none").hidden = !empty; });
      const reload = () => load(false).catch(failed);
      $("area").addEventListener("change", reload);
      $("open").addEventListener("change", reload);
      $("new").addEventListener("click", () => openForm().catch(failed));
      onSubmit("patrol-form", async (form) => {
        const made = await api.post("/patrols", patrolBody(new FormData(form)));
        $("create").hidden = true;
        notice(`已发布巡逻“${made.title}”`, "ok");
        await load(false);
        await showPatrol(made);
      });
      $("fullscreen").addEventListener("click", () => fullScreen().catch(failed));
      $("screen-close").addEventListener("click", closeScreen);
      document.addEventListener("keydown", (event) => event.key === "Escape" && closeScreen());
      await load(false);
    },

    async leaderboards(user) {
      const area = staffAreas(user, STAFF)[0] || "";
      const scope = {6: "district", 9: "street", 12: "community"}[area.length];  // the area's level
      const show = async () => {
        const board = await api.get("/leaderboards" + query({
          scope: $("scope").value, id: $("area").value, period: $("period").value, limit: 20}));
        const rows = board.items.map((r) => ({label: `${r.rank}. ${r.name || "志愿者"}`,
                                              value: r.points}));
        Charts.bars($("chart"), rows, {unit: " 分"});
      };
      $("show").addEventListener("click", () => show().catch(failed));
      if (!scope) return;  // a city-wide account picks a district, street or community first
      $("area").value = area;
      $("scope").value = scope;
      await show();
    },

    async imports() {
      onSubmit("upload", async (form) => {
        const job = await api.post("/admin/volunteers/imports", new FormData(form));
        window.history.replaceState(null, "", "?job=" + job.id);  // a reload follows the same job
        await follow(job);
      });
      const id = new URLSearchParams(window.location.search).get("job");
      if (id) await follow(await api.get("/admin/volunteers/imports/" + encodeURIComponent(id)));
    },
  });

  // ---- groups: one group's join requests ----
  async function showRequests(group) {
    $("detail").hidden = false;
    $("detail-title").textContent = `${group.name} · 入群申请`;
    const page = await api.get(`/groups/${group.id}/members`
                               + query({status: "pending", limit: 100}));
    const decide = (m, status, row) => async () => {
      await api.patch(`/groups/${group.id}/members/${m.volunteer_id}`, {status});
      row.remove();
      notice(`已${status === "active" ? "批准" : "拒绝"} ${m.real_name} 的入群申请`, "ok");
      $("no-requests").hidden = $("requests").children.length > 0;
    };
    $("requests").replaceChildren(...page.items.map((m) => {
      const row = el("tr", {}, el("td", {}, m.real_name), el("td", {}, m.grid));
      row.append(el("td", {class: "act"}, button("批准", decide(m, "active", row)), " ",
                    button("拒绝", decide(m, "rejected", row), {class: "link"})),
                 el("td", {}, m.phone));
      return row;
    }));
    $("no-requests").hidden = page.items.length > 0;
  }

  // ---- patrols: the form, the roster, the check-in code, hours ----
  async function openForm() {
    $("create").hidden = false;
    const select = $("patrol-form").elements.group_id;
    const page = await api.get("/groups" + query({area: $("area").value, limit: 100}));
    select.replaceChildren(...page.items.map((g) => el("option",
      {value: g.id, "data-area": g.area}, `${g.name}（${g.area_name || g.area}）`)));
    const fill = () => {
      const area = select.selectedOptions[0] && select.selectedOptions[0].dataset.area;
      if (area && area.length >= 12) $("patrol-form").elements.area.value = area;
    };
    select.onchange = fill;
    fill();
    $("create").scrollIntoView();
  }

  function patrolBody(data) {
    const shanghai = (local) => local + ":00+08:00";  // the form's times are Beijing time
    const number = (name) => Number(data.get(name));
    const body = {group_id: data.get("group_id"), area: data.get("area"), title: data.get("title"),
                  starts_at: shanghai(data.get("starts_at")),
                  ends_at: shanghai(data.get("ends_at")),
                  meeting_point: {lat: number("lat"), lng: number("lng")},
                  radius_m: number("radius_m"), capacity: number("capacity"),
                  description: data.get("description")};
    if (data.get("points_per_hour") !== "") body.points_per_hour = number("points_per_hour");
    return body;
  }

  let shown = null, timer = null;

  async function showPatrol(patrol) {
    shown = patrol;
    $("detail").hidden = false;
    $("detail-title").textContent = patrol.title;
    $("detail-meta").textContent = `${when(patrol.starts_at)} 至 ${when(patrol.ends_at)} · `
      + `${patrol.area_name || patrol.area} · 名额 ${patrol.capacity}`
      + ` · 每小时 ${patrol.points_per_hour} 分`;
    const roster = await api.get(`/patrols/${patrol.id}/signups` + query({limit: 100}));
    $("roster").replaceChildren(...roster.items.map((s) => el("tr", {}, el("td", {}, s.name),
      el("td", {}, s.status === "waitlisted" ? `候补第 ${s.position} 位`
        : {active: "已报名", cancelled: "已取消"}[s.status] || s.status))));
    await Promise.all([showCode($("checkin-qr")), attendance()]);
    $("detail").scrollIntoView();
  }

  /** Show the current check-in code in img; null (code hidden) once the patrol is closed. */
  async function showCode(img) {
    try {
      const code = await api.get(`/patrols/${shown.id}/checkin-code`);
      img.src = code.qr_url;
      $("code").hidden = false;
      return code;
    } catch (error) {
      if (error.status !== 409) throw error;
      $("code").hidden = true;
      return null;
    }
  }

  async function fullScreen() {
    $("screen").hidden = false;
    $("screen-title").textContent = `${shown.title} · 扫码签到`;
    if ($("screen").requestFullscreen) $("screen").requestFullscreen().catch(() => {});
    const tick = async () => {
      const code = await showCode($("screen-qr"));
      if (!code) { closeScreen(); return; }
      $("screen-hint").textContent = `签到码每分钟更新（${code.refresh_in} 秒后换新码）`;
      timer = window.setTimeout(() => tick().catch(failed), code.refresh_in * 1000);
    };
    await tick();
  }

  function closeScreen() {
    window.clearTimeout(timer);
    $("screen").hidden = true;
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  }

  async function attendance() {
    const page = await api.get(`/patrols/${shown.id}/attendances` + query({limit: 100}));
    $("attendance").replaceChildren(...page.items.map(attendanceRow));
    $("no-attendance").hidden = page.items.length > 0;
    $("certify-all").onclick = () => (async () => {
      const done = await api.post(`/patrols/${shown.id}/attendances/certify`);
      notice(`已按记录认证 ${done.certified} 人的工时`, "ok");
      await attendance();
    })().catch(failed);
  }

  function attendanceRow(a) {
    const hours = (h) => (h === null ? "—" : `${h} 小时`);
    const state = a.review === "pending" ? "签退远离集合点，待审核"
      : `已认证 ${hours(a.certified_hours)}`;
    const form = el("form", {class: "certify"},
      el("input", {name: "hours", type: "number", min: 0, max: 12, step: 0.1, "aria-label": "认证工时",
                   value: a.certified_hours ?? a.recorded_hours ?? ""}),
      el("input", {name: "reason", maxlength: 200, placeholder: "更正原因", "aria-label": "更正原因"}),
      el("button", {type: "submit"}, "认证"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      certify(a, new FormData(form)).catch(failed);
    });
    return el("tr", {}, el("td", {}, a.name),
      el("td", {}, `${when(a.checked_in_at)} / ${when(a.checked_out_at) || "未签退"}`,
         el("br"), `记录 ${hours(a.recorded_hours)} · ${state}`),
      el("td", {class: "act"}, a.checked_out_at ? form : "签退后可认证"));
  }

  async function certify(a, data) {
    const hours = Number(data.get("hours")), reason = data.get("reason").trim();
    const body = hours === a.recorded_hours && !reason ? {} : {hours, reason: reason || undefined};
    const path = `/patrols/${shown.id}/attendances/${a.volunteer_id}/certifications`;
    const done = await api.post(path, body);
    notice(`已认证 ${done.name} 的工时：${done.certified_hours} 小时`, "ok");
    await attendance();
  }

  // ---- imports: follow a job until it ends ----
  async function follow(job) {
    $("job").hidden = false;
    const percent = job.state === "done" ? 100
      : job.rows_total ? Math.floor(100 * job.rows_done / job.rows_total) : 0;
    $("job-state").textContent = JOB_STATES[job.state] || job.state;
    $("job-rows").textContent = job.rows_total === null ? "正在读取文件"
      : `已处理 ${job.rows_done} / ${job.rows_total} 行`;
    $("progress").value = percent;
    $("percent").textContent = percent + "%";
    for (const k of ["inserted", "updated", "rejected"]) $(k).textContent = job[k];
    if (job.state === "failed") notice(job.message || "导入失败", "error");
    if (job.state !== "done" && job.state !== "failed") {
      const next = () => api.get(`/admin/volunteers/imports/${job.id}`).then(follow).catch(failed);
      window.setTimeout(next, 1000);
      return;
    }
    $("report").hidden = !job.rejected;
    $("truncated").hidden = !job.rejected_rows_truncated;
    $("rejected-rows").replaceChildren(...job.rejected_rows.map((r) => el("tr", {},
      el("td", {}, r.line), el("td", {}, r.reasons.join("；")))));
    $("rejected-download").onclick = () => save(`/admin/volunteers/imports/${job.id}/rejected.csv`,
                                                 `import-${job.id}-rejected.csv`).catch(failed);
  }
})();

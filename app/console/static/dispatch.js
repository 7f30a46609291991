/* 有呼必应 dispatch pages: each staff role's queue with live countdowns to the due times, a case
   with its photos, its timeline and the moves the role may make, and the three rates. The API
   decides every move: a page offers what the role may try from the state it shows, and shows what
   the API refuses. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas} = Console;
  const $ = (id) => document.getElementById(id);
  const params = () => new URLSearchParams(window.location.search);

  // GET /reports?queue=…: its tab, and the roles (over areas at most `longest` long) that hold it
  const QUEUES = [
    {queue: "community", name: "社区待受理", roles: ["community_staff", "admin"], longest: 14},
    {queue: "street", name: "街道待派单", roles: ["street_staff", "admin"], longest: 14},
    {queue: "district", name: "区级督办", roles: ["street_staff", "admin"], longest: 6},
    {queue: "department", name: "部门待处置", roles: ["department_staff"], longest: 14},
  ];
  const STATES = {submitted: "待受理", accepted: "已受理", rejected: "不予受理", duplicate: "已合并",
                  dispatched: "已派单", in_progress: "处置中", resolved: "已办结",
                  reopened: "已重新打开", confirmed: "已确认", closed: "已关闭"};
  const ACTIONS = {submit: "报事", accept: "受理", reject: "不予受理", merge: "合并",
                   dispatch: "派单", hand_back: "退回", start: "开始处置", resolve: "办结",
                   confirm: "确认办结", reopen: "重新打开", escalate: "超时升级", close: "自动结案"};
  const LEVELS = {community: "社区", street: "街道", district: "区"};
  const STATS_ROLES = ["community_staff", "street_staff", "admin"];
  const caseLink = (id) => "/console/report?" + new URLSearchParams({id});

  // ---- countdowns: every [data-due] element counts down to its time, by the server's clock
  let skew = 0, ticking = null;

  async function syncClock() {
    const sent = Date.now();
    const response = await fetch("/console/login", {method: "HEAD", cache: "no-store"});
    const server = Date.parse(response.headers.get("Date")) + 500;  // the header has no ms
    const here = (sent + Date.now()) / 2;
    if (Math.abs(server - here) > 5000) skew = server - here;
  }

  function left(ms) {
    const s = Math.floor(Math.abs(ms) / 1000), days = Math.floor(s / 86400);
    const hms = [s % 86400 / 3600, s % 3600 / 60, s % 60]
      .map((n) => String(Math.floor(n)).padStart(2, "0")).join(":");
    return `${ms < 0 ? "超时" : "剩余"} ${days ? days + "天 " : ""}${hms}`;
  }

  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll("[data-due]").forEach((node) => {
      const ms = Date.parse(node.dataset.due) - now;
      node.textContent = left(ms);
      node.classList.toggle("overdue", ms < 0);
      node.classList.toggle("soon", ms >= 0 && ms < 3600e3);
    });
  }

  function live() {
    tick();
    ticking = ticking || window.setInterval(tick, 1000);
  }

  function countdown(due) {
    if (!due) return el("span", {class: "hint"}, "—");
    return el("span", {class: "due", "data-due": due, title: "截止 " + when(due)});
  }

  // ---- what a case looks like
  const names = new Map();  // area code → its name (a promise), asked once per page

  function areaName(code) {
    if (!names.has(code)) {
      names.set(code, api.get("/areas/" + code).then((a) => a.name, () => code));
    }
    return names.get(code);
  }

  function badges(r) {
    return [el("span", {class: "state"}, STATES[r.state] || r.state),
      r.urgency === "urgent" ? el("span", {class: "flag"}, "紧急") : "",
      r.level !== "community" ? el("span", {class: "tag"}, `${LEVELS[r.level]}级督办`) : "",
      r.flagged ? el("span", {class: "flag", title: "超时两次升级"}, "两次升级") : ""];
  }

  async function caseRow(r) {
    return el("tr", {class: r.flagged ? "flagged" : null, "data-id": r.id},
      el("td", {}, countdown(r.due_at)),
      el("td", {}, el("a", {href: caseLink(r.id)}, r.category.name), " ", badges(r).slice(1),
        el("div", {class: "snippet"}, r.text)),
      el("td", {}, STATES[r.state] || r.state), el("td", {}, await areaName(r.grid)),
      el("td", {}, when(r.submitted_at)));
  }

  function step(s, user) {
    const who = !s.actor_id ? "系统" : s.actor_id === user.id ? "我"
      : ["submit", "confirm", "reopen"].includes(s.action) ? "报事人"
        : `经办人 #${s.actor_id.slice(-6)}`;
    const states = (s.from_state ? STATES[s.from_state] + " → " : "") + STATES[s.to_state];
    return el("li", {"data-action": s.action},
      el("div", {class: "hint"}, when(s.created_at)),
      el("div", {}, el("strong", {}, ACTIONS[s.action] || s.action), ` · ${who}`,
        s.level !== "community" ? ` · ${LEVELS[s.level]}级` : ""),
      el("div", {class: "hint"}, states),
      s.reason ? el("blockquote", {}, s.reason) : "");
  }

  function photos(r) {
    const all = [...r.photos.map((src) => [src, "报事照片"]),
                 ...r.resolution_photos.map((src) => [src, "办结照片"])];
    if (!all.length) return [el("p", {class: "empty"}, "暂无照片")];
    return all.map(([src, label], i) => el("figure", {},
      el("a", {href: src, target: "_blank", rel: "noopener"},
        el("img", {src, alt: `${label} ${i + 1}`})),
      el("figcaption", {}, label)));
  }

  function facts(r, grid) {
    const into = r.merged_into;
    const merged = into ? [["合并到", el("a", {href: caseLink(into)}, into)]] : [];
    return [["报事内容", r.text], ["地址", r.address || "—"], ["网格", `${grid}（${r.grid}）`],
      ["提交时间", when(r.submitted_at)], ["受理时限", when(r.accept_due_at)],
      ["办结时限", when(r.resolve_due_at)], ["处置部门", r.department ? r.department.name : "—"],
      ["超时升级", `${r.escalations} 次`], ["退回", `${r.hand_backs} 次`],
      ["报事人", r.reporter || "未公开"], ["编号", r.id], ...merged];
  }

  function definitions(pairs) {
    return pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);
  }

  // ---- the moves a role may try from a state (POST /reports/<id>/transitions)
  function covers(user, grid, roles) {
    return user.roles.some((g) => roles.includes(g.role) && grid.startsWith(g.area));
  }

  function moves(user, r) {
    const takes = covers(user, r.grid, ["community_staff", "admin"])
      || (r.level !== "community" && covers(user, r.grid, ["street_staff"]));
    const dispatches = covers(user, r.grid, ["street_staff", "admin"]);
    const responds = covers(user, r.grid, ["department_staff", "admin"]);
    const handBack = r.hand_backs < 1 ? ["hand_back"] : [];
    const by = {submitted: takes && ["accept", "reject", "merge"],
                accepted: dispatches && ["dispatch"],
                dispatched: responds && ["start", ...handBack],
                reopened: responds && ["start"], in_progress: responds && ["resolve"]};
    return by[r.state] || [];
  }

  const BUTTONS = {accept: "受理", reject: "不予受理", merge: "合并到该报事", dispatch: "派单",
                   hand_back: "退回街道", start: "开始处置", resolve: "办结"};
  const REASONS = {reject: "不予受理的原因", hand_back: "退回原因（只能退回一次）",
                   resolve: "处置说明"};

  async function departmentField(r) {
    const all = await api.get("/report-departments");
    const current = r.department && r.department.code;
    const options = all.filter((d) => r.grid.startsWith(d.area)).map((d) =>
      el("option", {value: d.code, selected: d.code === current ? "" : null}, d.name));
    return el("label", {}, "派往部门", el("select", {name: "department"}, options));
  }

  function duplicateField(r) {
    const near = (r.duplicates_nearby || []).map((d) =>
      el("option", {value: d.id}, `${when(d.submitted_at)} ${d.text.slice(0, 24)}`));
    return el("label", {}, "与之重复的报事编号",
      el("input", {name: "duplicate_of", required: "", pattern: "[1-9][0-9]{0,18}",
                   list: "nearby"}),
      el("datalist", {id: "nearby"}, near));
  }

  function reasonField(action) {
    const box = el("textarea", {name: "reason", required: "", maxlength: 500, rows: 2});
    return el("label", {}, REASONS[action], box);
  }

  async function moveForm(action, r, user) {
    const form = el("form", {class: "move", "data-action": action});
    if (action === "dispatch") form.append(await departmentField(r));
    if (action === "merge") form.append(duplicateField(r));
    if (REASONS[action]) form.append(reasonField(action));
    const button = el("button", {type: "submit"}, BUTTONS[action]);
    form.append(button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      button.disabled = true;
      notice("");
      take(user, r.id, {action, ...Object.fromEntries(new FormData(form))})
        .finally(() => { button.disabled = false; });
    });
    return form;
  }

  async function take(user, id, body) {
    try {
      const moved = await api.post(`/reports/${id}/transitions`, body);
      notice(`报事${STATES[moved.state]}`, "ok");
      await showCase(user, moved);
    } catch (error) {
      failed(error);
      // the case moved on meanwhile (409): show where it stands now, beside the API's message
      if (error.status === 409) {
        await api.get(`/reports/${id}`).then((r) => showCase(user, r)).catch(() => {});
      }
    }
  }

  async function showCase(user, r) {
    $("case").hidden = false;
    $("case-title").textContent = `${r.category.name} · ${r.urgency === "urgent" ? "紧急" : "一般"}`;
    $("case-badges").replaceChildren(...badges(r));
    $("case-due-label").textContent = r.state === "resolved" ? "报事人确认期限" : "当前环节时限";
    $("case-due").replaceChildren(countdown(r.due_at));
    $("case-facts").replaceChildren(...definitions(facts(r, await areaName(r.grid))));
    const forms = await Promise.all(moves(user, r).map((action) => moveForm(action, r, user)));
    const spent = r.state === "dispatched" && r.hand_backs >= 1
      && covers(user, r.grid, ["department_staff"]);
    $("moves").replaceChildren(...forms,
                               spent ? el("p", {class: "hint"}, "已退回过一次，不能再次退回") : "");
    $("photos").replaceChildren(...photos(r));
    $("timeline").replaceChildren(...(r.history || []).map((s) => step(s, user)));
    live();
  }

  // ---- the three rates, against a 0–100 % scale, and the counts by street, department or category
  const RATES = [["response_rate", "响应率", "responded_on_time", "response_due", "按时响应"],
                 ["resolution_rate", "解决率", "resolved_on_time", "resolution_due", "按时办结"],
                 ["satisfaction_rate", "满意率", "confirmed", "closed", "确认满意"]];
  const percent = (rate) => (rate === null || rate === undefined ? "—"
    : `${Math.round(rate * 1000) / 10}%`);

  function rateRow(t, [key, label, part, whole, what]) {
    return el("div", {class: "meter", "data-rate": key},
      el("span", {class: "label"}, label),
      el("meter", {min: 0, max: 1, low: 0.6, high: 0.9, optimum: 1, value: t[key] ?? 0}),
      el("span", {class: "value"}, percent(t[key])),
      el("span", {class: "hint"}, `${what} ${t[part]} / ${t[whole]}`));
  }

  function drawRates(stats) {
    const t = stats.total;
    const median = t.median_hours_to_resolve;
    $("rates").replaceChildren(...RATES.map((rate) => rateRow(t, rate)));
    $("totals").replaceChildren(...definitions([["报事", t.count], ["超时未办", t.open_overdue],
      ["两次升级", t.flagged], ["办结用时中位数", median === null ? "—" : `${median} 小时`]]));
    $("window").textContent = `${stats.from} 至 ${stats.to} 提交的报事，统计于 ${when(stats.as_of)}`;
  }

  function drawGroups(stats) {
    const label = (g) => g.name || (g.key === "None" ? "未派单" : g.key);
    const rows = stats.groups.map((g) => ({label: label(g), value: g.count}));
    Charts.bars($("groups-chart"), rows.sort((a, b) => b.value - a.value), {unit: " 件"});
    $("groups").replaceChildren(...stats.groups.map((g) => el("tr", {}, el("td", {}, label(g)),
      el("td", {}, g.count), el("td", {}, g.open_overdue),
      RATES.map(([key]) => el("td", {}, percent(g[key]))))));
  }

  function tabs(container, attribute, choose) {
    container.addEventListener("click", (event) => {
      const value = event.target.dataset[attribute];
      if (!value) return;
      container.querySelectorAll("button")
        .forEach((b) => b.classList.toggle("on", b === event.target));
      notice("");
      choose(value).catch(failed);
    });
  }

  Object.assign(Console.pages, {
    async dispatch(user) {
      const held = QUEUES.filter((q) => user.roles.some((g) => q.roles.includes(g.role)
                                                        && g.area.length <= q.longest));
      let queue = params().get("queue") || (held[0] || QUEUES[0]).queue, cursor = null;
      $("queues").replaceChildren(...held.map((q) => el("button", {type: "button",
        "data-queue": q.queue, class: q.queue === queue ? "on" : null}, q.name)));
      const load = async (more) => {
        const page = await api.get("/reports" + query({queue, limit: 50,
                                                       cursor: more ? cursor : null}));
        const rows = await Promise.all(page.items.map(caseRow));
        if (more) $("cases").append(...rows); else $("cases").replaceChildren(...rows);
        cursor = page.next_cursor;
        const shown = $("cases").children.length;
        $("more").hidden = !cursor;
        $("queue-empty").hidden = shown > 0;
        $("queue-count").textContent = `共 ${shown} 条${cursor ? "，还有更多" : ""}`;
        live();
      };
      tabs($("queues"), "queue", (chosen) => {
        queue = chosen;
        window.history.replaceState(null, "", "?" + new URLSearchParams({queue}));
        return load(false);
      });
      $("more").addEventListener("click", () => load(true).catch(failed));
      await syncClock().catch(() => {});
      await load(false);
    },

    async report(user) {
      const id = params().get("id") || "";
      if (!/^[1-9][0-9]{0,18}$/.test(id)) {
        notice("请从工单队列打开一条报事", "error");
        return;
      }
      await syncClock().catch(() => {});
      await showCase(user, await api.get(`/reports/${id}`));
    },

    async "report-stats"(user) {
      const areas = staffAreas(user, STATS_ROLES);
      const asked = params().get("area");  // a link to one area's figures
      if (asked && !areas.includes(asked)) areas.unshift(asked);
      $("area").replaceChildren(...await Promise.all(areas.map(async (a) =>
        el("option", {value: a}, `${await areaName(a)}（${a}）`))));
      const filters = $("filters").elements;
      let by = "street";
      const draw = async () => {
        const stats = await api.get("/stats/reports" + query({area: filters.area.value, by,
          from: filters.from.value, to: filters.to.value}));
        filters.from.value = stats.from;
        filters.to.value = stats.to;
        drawRates(stats);
        drawGroups(stats);
      };
      tabs($("by"), "by", (chosen) => {
        by = chosen;
        return draw();
      });
      $("filters").addEventListener("submit", (event) => {
        event.preventDefault();
        notice("");
        draw().catch(failed);
      });
      await draw();
    },
  });
})();

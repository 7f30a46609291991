/* Health officials' pages: tracing and colour decisions, every action audited. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas, statsChart} = Console;
  const $ = (id) => document.getElementById(id);

  Object.assign(Console.pages, {
    async health() {
      $("trace").addEventListener("submit", (event) => { event.preventDefault(); trace(event.target).catch(failed); });
      $("apply").addEventListener("submit", (event) => { event.preventDefault(); applyColour(event.target).catch(failed); });
    },
  });

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
})();

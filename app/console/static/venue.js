/* Venue pages: the venues of the staff member's area, and a venue manager's own venues: visits
   per hour, the poster (PNG, or a print-ready A4 PDF) and the staff, invited by phone, removed. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas} = Console;
  const $ = (id) => document.getElementById(id);
  const ROLES = {admin: "管理员", inspector: "检测员"};

  Object.assign(Console.pages, {
    async venues(user) {
      const area = staffAreas(user, ["organiser", "health_official", "admin"])[0];
      const list = await api.get("/venues" + query({area, limit: 50}));
      $("venues").replaceChildren(...list.items.map((v) => el("tr", {},
        el("td", {}, opener(v, showVenue)), el("td", {}, v.address), el("td", {}, v.area))));
      if (!list.items.length) {
        $("venues").append(el("tr", {}, el("td", {class: "empty", colspan: 3}, "该区域暂无场所")));
      }
      listen();
    },

    async "my-venues"() {
      const mine = await api.get("/me/venues");
      $("my-venues").replaceChildren(...mine.items.map((v) => el("li", {}, opener(v, showMine),
        el("span", {class: `pill ${v.my_role}`}, ROLES[v.my_role] || v.my_role),
        el("span", {class: "hint"}, v.address))));
      $("none").hidden = mine.items.length > 0;
      listen();
      $("invite").addEventListener("submit", (event) => {
        event.preventDefault();
        invite(event.target).catch(failed);
      });
      if (mine.items.length === 1) await showMine(mine.items[0]);
    },
  });

  // YYYY-MM-DD in Guangzhou
  const today = () => new Date().toLocaleDateString("sv-SE", {timeZone: "Asia/Shanghai"});

  /** The venue's name as the button that opens its detail. */
  function opener(venue, show) {
    const click = () => show(venue).catch(failed);
    return el("button", {type: "button", class: "link", on: {click}}, venue.name);
  }

  /** Visits per hour of one local day, as the bar chart every venue page shows. */
  async function visits(venueId) {
    const day = $("visit-date").value || today();
    const stats = await api.get(`/venues/${venueId}/stats` + query({date: day}));
    // From the first hour with visits to the last: a day's opening hours, not 24 rows of nothing.
    const open = stats.by_hour.filter((h) => h.total);
    const first = open.length ? open[0].hour : 0;
    const last = open.length ? open[open.length - 1].hour : -1;
    const rows = stats.by_hour.slice(first, last + 1)
      .map((h) => ({label: `${h.hour}时`, value: h.total}));
    Charts.bars($("hours"), rows, {unit: " 人次"});
    $("visit-total").textContent = stats.total.toLocaleString("zh-CN");
  }

  async function poster(venue) {
    const png = await api.blob(`/venues/${venue.id}/poster.png`);
    $("poster").src = png;
    Object.assign($("poster-png"), {href: png, download: `poster-${venue.id}.png`});
    $("poster-pdf").href = "#";  // drawn on demand
    $("poster-pdf").dataset.venue = venue.id;
  }

  /** The detail's controls: another day's visits; the PDF, drawn on demand (the first click
      fetches it, then the link downloads it like any other). */
  function listen() {
    $("visit-date").addEventListener("change", () => visits($("venue").dataset.id).catch(failed));
    $("poster-pdf").addEventListener("click", async (event) => {
      const link = event.currentTarget;
      if (link.href.startsWith("blob:")) return;
      event.preventDefault();
      try {
        Object.assign(link, {href: await api.blob(`/venues/${link.dataset.venue}/poster.pdf`),
                             download: `poster-${link.dataset.venue}.pdf`});
        link.click();
      } catch (error) { failed(error); }
    });
  }

  function showVenue(venue) {
    notice("");
    $("venue").hidden = false;
    $("venue").dataset.id = venue.id;
    $("venue-title").textContent = venue.name;
    $("venue-role").textContent = venue.my_role ? `我的身份：${ROLES[venue.my_role]}` : "";
    $("visit-date").value = $("visit-date").value || today();
    return Promise.all([visits(venue.id), poster(venue)]);
  }

  async function showMine(venue) {
    // only a venue's admins see and change its staff
    $("staff-card").hidden = venue.my_role !== "admin";
    await Promise.all([showVenue(venue), venue.my_role === "admin" ? staff(venue.id) : null]);
  }

  /* ---- staff: invitations (the invitee accepts in the mini-program), the list, removal */

  async function staff(venueId) {
    const members = await api.get(`/venues/${venueId}/staff`);
    $("staff").replaceChildren(...members.map((m) => el("tr", {"data-user": m.user_id},
      el("td", {}, m.phone || "（无手机号）"), el("td", {}, ROLES[m.role] || m.role),
      el("td", {}, m.role === "admin" ? "" : el("button", {type: "button", class: "link danger",
        on: {click: () => removeMember(venueId, m).catch(failed)}}, "移除")),
      el("td", {}, when(m.created_at)))));
  }

  async function invite(form) {
    const venueId = $("venue").dataset.id;
    const phone = new FormData(form).get("phone").trim();
    await api.post(`/venues/${venueId}/staff`, {phone});
    form.reset();
    notice(`已向 ${phone} 发出邀请：对方在“我的邀请”中接受后成为检测员`
           + "（未注册的号码不会收到邀请）。", "ok");
  }

  async function removeMember(venueId, member) {
    const question = `确定移除检测员 ${member.phone || ""}？移除后对方不能再为本场所验码。`;
    if (!window.confirm(question)) return;
    await api.del(`/venues/${venueId}/staff/${member.user_id}`);
    notice(`已移除检测员 ${member.phone || ""}`, "ok");
    await staff(venueId);
  }
})();

/* Venue pages: the venues of the staff member's area, their posters and visits. */
"use strict";

(() => {
  const {api, query, el, notice, failed, when, staffAreas, statsChart} = Console;
  const $ = (id) => document.getElementById(id);

  Object.assign(Console.pages, {
    async venues(user) {
      const area = staffAreas(user, ["organiser", "health_official", "admin"])[0];
      const list = await api.get("/venues" + query({area, limit: 50}));
      $("venues").replaceChildren(...list.items.map((v) => el("tr", {},
        el("td", {}, v.name), el("td", {}, v.address), el("td", {}, v.area),
        el("td", {}, el("button", {type: "button", on: {click: () => showVenue(v).catch(failed)}}, "海报与到访")))));
    },
  });

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
})();

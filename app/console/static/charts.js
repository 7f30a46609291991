/* Horizontal bar charts drawn as SVG, with each number printed beside its bar (readable at 360 px). */
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  function node(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  /** bars(container, [{label, value}], {unit}): replace the container's content with a bar chart. */
  function bars(container, rows, options) {
    const unit = (options && options.unit) || "";
    container.replaceChildren();
    if (!rows.length) {
      container.append(Object.assign(document.createElement("p"), {className: "empty", textContent: "暂无数据"}));
      return;
    }
    const rowHeight = 26, labelWidth = 34, width = 100;
    const max = Math.max(...rows.map((r) => r.value), 1);
    const svg = node("svg", {viewBox: `0 0 ${width} ${rows.length * rowHeight / 4}`, role: "img",
                             class: "bars", "aria-label": "柱状图"});
    rows.forEach((r, i) => {
      const y = i * rowHeight / 4;
      const g = node("g", {class: "bar-row"});
      g.append(node("text", {x: labelWidth - 1, y: y + 4.4, "text-anchor": "end", class: "label"},
                    r.label.length > 9 ? r.label.slice(0, 8) + "…" : r.label));
      const w = Math.max(0.5, (width - labelWidth - 16) * r.value / max);
      g.append(node("rect", {x: labelWidth, y: y + 1.2, width: w, height: rowHeight / 4 - 2.4, rx: 0.8}));
      g.append(node("text", {x: labelWidth + w + 1, y: y + 4.4, class: "value"}, r.value.toLocaleString("zh-CN") + unit));
      g.append(node("title", {}, `${r.label}: ${r.value}${unit}`));
      svg.append(g);
    });
    container.append(svg);
  }

  return {bars};
})();

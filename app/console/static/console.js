/* 街坊后台: the console's core. Tokens live in this tab's sessionStorage; every call goes through /api/v1,
   whose error envelope (error + message) is what a page shows when something is refused. */
"use strict";

const Console = (() => {
  const API = "/api/v1";
  const store = window.sessionStorage;

  class ApiError extends Error {
    constructor(status, body) {
      super(body.message || "服务暂时不可用，请稍后重试");
      this.status = status;
      this.code = body.error || "unknown";
    }
  }

  function save(pair) {
    store.setItem("access", pair.access_token);
    store.setItem("refresh", pair.refresh_token);
  }

  function send(method, path, token, body) {
    const headers = {"Accept": "application/json"};
    if (token) headers.Authorization = "Bearer " + token;
    const form = body instanceof FormData;  // a multipart upload: the browser sets its own Content-Type
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    return fetch(API + path, {method, headers, body: body === undefined || form ? body : JSON.stringify(body)});
  }

  async function refresh() {
    const r = await send("POST", "/auth/refresh", store.getItem("refresh"));
    if (!r.ok) return false;
    save(await r.json());
    return true;
  }

  async function call(method, path, body, raw) {
    let r = await send(method, path, store.getItem("access"), body);
    if (r.status === 401 && store.getItem("refresh")) {
      const err = await r.clone().json().catch(() => ({}));
      if (err.error === "token_expired" && await refresh()) r = await send(method, path, store.getItem("access"), body);
    }
    if (r.status === 401 && path !== "/auth/login/password") {
      store.clear();
      window.location.assign("/console/login");
      throw new ApiError(401, {message: "请先登录"});
    }
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
    if (raw) return r;
    return r.status === 204 ? null : r.json();
  }

  const api = {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body === undefined ? {} : body),  // a FormData body is uploaded
    patch: (path, body) => call("PATCH", path, body),
    del: (path) => call("DELETE", path),
    blob: async (path) => URL.createObjectURL(await (await call("GET", path, undefined, true)).blob()),
  };

  function query(params) {
    const q = new URLSearchParams();
    Object.entries(params).forEach(([k, v]) => { if (v !== undefined && v !== null && v !== "") q.set(k, v); });
    const s = q.toString();
    return s ? "?" + s : "";
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "on") Object.entries(v).forEach(([event, fn]) => node.addEventListener(event, fn));
      else if (v !== undefined && v !== null) node.setAttribute(k, v);
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c ?? ""))));
    return node;
  }

  function notice(message, kind) {
    const box = document.getElementById("notice");
    if (!box) return;
    box.textContent = message;
    box.className = "notice " + (kind || "error");
    box.hidden = !message;
  }

  /** Show what the API said when it refused (403 on another role's or area's page, 422, …). */
  function failed(error) {
    if (error.status === 403) notice("无权访问：" + error.message, "denied");
    else notice(error.message, "error");
  }

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false});
  }

  async function me() {
    const cached = store.getItem("me");
    if (cached) return JSON.parse(cached);
    const user = await api.get("/me");
    store.setItem("me", JSON.stringify(user));
    return user;
  }

  async function frame() {
    if (!store.getItem("access")) {
      window.location.assign("/console/login");
      return null;
    }
    const user = await me();
    const roles = new Set(user.roles.map((g) => g.role));
    document.querySelectorAll("#nav a").forEach((a) => {
      a.hidden = !a.dataset.roles.split(" ").some((r) => roles.has(r));
    });
    document.getElementById("who").textContent = user.username || user.phone || "";
    document.getElementById("menu").addEventListener("click", () => document.body.classList.toggle("open"));
    document.getElementById("logout").addEventListener("click", async () => {
      try { await api.post("/auth/logout"); } finally { store.clear(); window.location.assign("/console/login"); }
    });
    return user;
  }

  async function login(username, password, totp) {
    const body = totp ? {username, password, totp} : {username, password};
    const r = await call("POST", "/auth/login/password", body);
    store.clear();
    save(r);
    store.setItem("me", JSON.stringify(r.user));
    return r.user;
  }

  const pages = {};  // page name (<body data-page>) → async function (user), filled by the page scripts

  return {api, query, el, notice, failed, when, frame, login, ApiError, pages};
})();

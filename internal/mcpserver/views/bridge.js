"use strict";
// The view's side of MCP Apps: JSON-RPC 2.0 over postMessage with the host
// that framed it (window.parent), and nothing else. It is a few dozen lines
// because that is all a view needs; the host side is the official
// AppBridge. Everything a person wrote reaches the page as text
// (textContent), never as markup, except a mail body graphgate sanitised.
const app = (() => {
  const host = window.parent;
  const pending = new Map();
  const handlers = {};
  let nextId = 1;
  const send = (m) => host.postMessage(Object.assign({ jsonrpc: "2.0" }, m), "*");
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    send({ id, method, params });
  });
  const notify = (method, params) => send({ method, params });
  window.addEventListener("message", (e) => {
    const m = e.data;
    if (e.source !== host || !m || m.jsonrpc !== "2.0") return;
    if (m.method === undefined) {
      const p = pending.get(m.id);
      if (p) {
        pending.delete(m.id);
        if (m.error) p.reject(new Error(m.error.message)); else p.resolve(m.result);
      }
      return;
    }
    const h = handlers[m.method];
    if (m.id === undefined) {
      if (h) h(m.params || {});
      return;
    }
    if (h) send({ id: m.id, result: h(m.params || {}) || {} });
    else send({ id: m.id, error: { code: -32601, message: "method not found" } });
  });

  const context = {};
  const theme = (ctx) => {
    Object.assign(context, ctx || {});
    if (context.theme === "light" || context.theme === "dark") document.documentElement.dataset.theme = context.theme;
  };
  handlers["ui/notifications/host-context-changed"] = theme;
  handlers["ui/resource-teardown"] = () => ({});
  handlers["ping"] = () => ({});

  const api = {
    // context is what the host said of itself (theme, timeZone, locale).
    context,
    // onResult is called with each tool result the host passes on.
    onResult(fn) { handlers["ui/notifications/tool-result"] = fn; },
    onInput(fn) { handlers["ui/notifications/tool-input"] = fn; },
    callTool: (name, args) => request("tools/call", { name, arguments: args }),
    // say puts text to the model as the person's message.
    say: (text) => request("ui/message", { role: "user", content: [{ type: "text", text }] }),
    openLink: (url) => request("ui/open-link", { url }),
    // el makes an element whose text is text: never markup.
    el(tag, cls, text) {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined && text !== null) e.textContent = String(text);
      return e;
    },
    // view is graphgate's part of a result's _meta.
    view: (result) => (result && result._meta && result._meta["graphgate/view"]) || {},
    text: (result) => ((result && result.content) || []).filter((c) => c.type === "text").map((c) => c.text).join("\n"),
  };

  new ResizeObserver(() => {
    const r = document.documentElement.getBoundingClientRect();
    notify("ui/notifications/size-changed", { width: Math.ceil(r.width), height: Math.ceil(r.height) });
  }).observe(document.documentElement);

  request("ui/initialize", {
    appInfo: { name: "graphgate", version: "1" },
    appCapabilities: {},
    protocolVersion: "2026-01-26",
  }).then((r) => {
    theme(r && r.hostContext);
    notify("ui/notifications/initialized", {});
  });
  return api;
})();

"use strict";
// The message view of get_message: who, to whom, when, the subject and
// attachments as text, and the body as graphgate sanitised it (no scripts,
// no styles, no remote images; the page's CSP forbids them anyway). Every
// link shows where it really goes and opens through the host.
(() => {
  const $ = (id) => document.getElementById(id);
  const field = (name, value) => {
    if (!value) return;
    $("fields").append(app.el("dt", "", name), app.el("dd", "", value));
  };
  const unwrap = (body) => (body || "").replace(/^<untrusted-content[^>]*>\n?/, "").replace(/\n?<\/untrusted-content[^>]*>$/, "");
  const size = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : n >= 1024 ? Math.ceil(n / 1024) + " KB" : n + " bytes");
  app.onResult((r) => {
    const m = r.structuredContent;
    if (r.isError || !m) {
      $("subject").textContent = "Could not read the message";
      $("body").append(app.el("p", "plain", app.text(r)));
      return;
    }
    const v = app.view(r);
    $("subject").textContent = m.subject || "(no subject)";
    field("From", m.from_name ? m.from_name + " <" + m.from + ">" : m.from);
    field("To", (m.to || []).join(", "));
    field("Cc", (m.cc || []).join(", "));
    field("Date", new Date(m.received).toLocaleString(app.context.locale, app.context.timeZone ? { timeZone: app.context.timeZone, timeZoneName: "short" } : {}));
    if ((m.attachments || []).length) {
      $("attachments").hidden = false;
      for (const a of m.attachments) $("attachments").append(app.el("li", "", a.name + " (" + size(a.size) + ")"));
    }
    if (/^https:\/\//.test(v.web_link || "")) {
      $("actions").hidden = false;
      $("outlook").addEventListener("click", () => app.openLink(v.web_link));
    }
    const body = $("body");
    if (v.html !== undefined) {
      // Sanitised by graphgate (bluemonday): markup only, no script.
      body.innerHTML = v.html;
      for (const a of body.querySelectorAll("a[href]")) {
        const target = a.getAttribute("href");
        if (a.textContent.trim() !== target) a.after(app.el("span", "target", " (" + target + ")"));
        a.addEventListener("click", (e) => {
          e.preventDefault();
          if (/^(https?|mailto):/i.test(target)) app.openLink(target);
        });
      }
    } else {
      body.append(app.el("div", "plain", unwrap(m.body)));
    }
    if (m.truncated) body.append(app.el("p", "muted", "The body goes on: ask the agent to read further."));
  });
})();

"use strict";
// The calendar view of list_events, find_free_time and find_meeting_times:
// the days of the answer side by side, hour by hour, in the zone the times
// came in (the person's own unless the agent asked for another). Free slots
// and suggested times are buttons: choosing one puts a suggestion to the
// model through the host. The view never creates an event itself.
(() => {
  const $ = (id) => document.getElementById(id);
  const hourPx = 40;
  const day = (t) => t.slice(0, 10);
  const minutes = (t) => (t.length > 10 ? Number(t.slice(11, 13)) * 60 + Number(t.slice(14, 16)) : 0);
  const hhmm = (t) => t.slice(11, 16);
  const dayName = (d) => new Date(d + "T12:00:00Z").toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  const status = (text) => {
    $("status").hidden = false;
    $("status").textContent = text;
  };

  // items: {start, end, label, free, allDay}
  const render = (items, zone) => {
    const week = $("week");
    week.replaceChildren();
    const days = [...new Set(items.map((i) => day(i.start)))].sort();
    if (!days.length) {
      week.append(app.el("p", "empty", "Nothing in this window."));
      return;
    }
    const timed = items.filter((i) => !i.allDay);
    const first = Math.min(...timed.map((i) => Math.floor(minutes(i.start) / 60)), 9);
    const last = Math.max(...timed.map((i) => (day(i.end) > day(i.start) ? 24 : Math.ceil(minutes(i.end) / 60))), 17);
    const gutter = app.el("div", "gutter");
    const marks = app.el("div", "hours");
    marks.style.height = (last - first) * hourPx + "px";
    for (let h = first; h < last; h++) {
      const mark = app.el("span", "", String(h).padStart(2, "0") + ":00");
      mark.style.top = (h - first) * hourPx + "px";
      marks.append(mark);
    }
    gutter.append(marks);
    week.append(gutter);
    for (const d of days) {
      const col = app.el("section", "day");
      col.append(app.el("h2", "", dayName(d)));
      for (const i of items.filter((i) => i.allDay && day(i.start) === d)) col.append(app.el("div", "allday", i.label));
      const hours = app.el("div", "hours");
      hours.style.height = (last - first) * hourPx + "px";
      for (const i of timed.filter((i) => day(i.start) === d)) {
        const from = minutes(i.start);
        const to = day(i.end) > d ? 24 * 60 : minutes(i.end);
        const e = app.el(i.free ? "button" : "div", "item");
        e.style.top = ((from - first * 60) * hourPx) / 60 + "px";
        e.style.height = Math.max(((to - from) * hourPx) / 60, 18) + "px";
        e.append(app.el("span", "when", hhmm(i.start) + "–" + (i.end.length > 10 ? hhmm(i.end) : "")), document.createTextNode(i.label));
        if (i.free) {
          e.addEventListener("click", async () => {
            const when = dayName(d) + " " + hhmm(i.start) + "–" + hhmm(i.end) + (zone ? " (" + zone + ")" : "");
            try {
              await app.say("Let's use " + when + ". Suggest it for the meeting.");
              status("Suggested " + when + " to the agent.");
            } catch (err) {
              status("The host did not take the suggestion: " + err.message);
            }
          });
        }
        hours.append(e);
      }
      col.append(hours);
      week.append(col);
    }
  };

  app.onResult((r) => {
    const out = r.structuredContent;
    if (r.isError || !out) {
      $("title").textContent = "No calendar to show";
      status(app.text(r));
      return;
    }
    if (out.events) {
      const zone = out.events.length ? out.events[0].time_zone : "";
      $("title").textContent = "Events" + (zone ? " (" + zone + ")" : "");
      render(out.events.map((e) => ({ start: e.start, end: e.end, allDay: !!e.all_day,
        label: (e.subject || "(no subject)") + (e.location ? " · " + e.location : "") })), zone);
      if (out.next_cursor) { $("note").hidden = false; $("note").textContent = "More events follow: ask the agent for them."; }
    } else if (out.slots) {
      $("title").textContent = "Free time (" + out.time_zone + "): choose a slot";
      render(out.slots.map((s) => ({ start: s.start, end: s.end, free: true, label: s.minutes + " min free" })), out.time_zone);
      if (out.note) { $("note").hidden = false; $("note").textContent = out.note; }
    } else if (out.suggestions) {
      $("title").textContent = "Suggested meeting times: choose one";
      render(out.suggestions.map((s) => ({ start: s.start, end: s.end, free: true,
        label: Math.round(s.confidence) + "% can come" })), "");
      if (out.why_none) { $("note").hidden = false; $("note").textContent = out.why_none; }
    }
  });
})();

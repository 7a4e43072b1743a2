"use strict";
// The approval card: what a gated write would do, one line per field as on
// graphgate's approval page, with Approve and Decline. The decision goes to
// decide_approval (a tool only this card may call), which records it as the
// page does; then the card tells the agent to go on, or not to.
(() => {
  const $ = (id) => document.getElementById(id);
  const status = (text, cls) => {
    const s = $("status");
    s.hidden = false;
    s.textContent = text;
    s.className = "status " + (cls || "");
  };
  let asked = null;
  const decide = async (decision) => {
    $("approve").disabled = $("decline").disabled = true;
    try {
      const r = await app.callTool("decide_approval", { approval: asked.id, key: asked.key, decision });
      if (r.isError) {
        status(app.text(r), "bad");
        return;
      }
      $("buttons").hidden = true;
      if (decision === "approve") {
        status("Approved. The agent goes on.", "ok");
        await app.say("I approved " + asked.tool + " in graphgate's card. Call " + asked.tool + " again with exactly the same arguments.");
      } else {
        status("Declined. Nothing was done.", "bad");
        await app.say("I declined " + asked.tool + " in graphgate's card. Do not do it.");
      }
    } catch (e) {
      status("graphgate did not answer: " + e.message + ". Try again, or use the approval page.", "bad");
      $("approve").disabled = $("decline").disabled = false;
    }
  };
  $("approve").addEventListener("click", () => decide("approve"));
  $("decline").addEventListener("click", () => decide("decline"));
  app.onResult((r) => {
    asked = app.view(r).approval || null;
    if (asked) {
      $("title").textContent = "Approve this?";
      $("summary").hidden = false;
      $("summary").textContent = asked.summary;
      $("expires").hidden = false;
      $("expires").textContent = "Asked by " + asked.agent + ". Expires at " + asked.expires + ".";
      $("buttons").hidden = false;
      return;
    }
    $("title").textContent = r.isError ? "Not done" : "Done";
    status(app.text(r), r.isError ? "bad" : "ok");
  });
})();

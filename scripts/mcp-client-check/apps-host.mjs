// A minimal MCP Apps host for graphgate's browser tests, built on the
// official host side (@modelcontextprotocol/ext-apps's AppBridge): it frames
// a view in a sandboxed iframe (scripts only: an opaque origin, no access to
// this page), feeds it a tool's input and result, and passes the view's
// tool calls to the test's real MCP client (POST /call). What the view asks
// of the host (messages to the model, links to open) is kept in
// window.host for the test to read.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const host = { messages: [], links: [], calls: [], sizes: [], ready: false, errors: [] };
window.host = host;

// show frames the view html for a tool call (input, result) in theme.
window.show = async (html, tool, input, result, theme) => {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.title = tool;
  document.getElementById("frames").replaceChildren(frame);
  host.ready = false;
  const bridge = new AppBridge(null, { name: "graphgate test host", version: "1" },
    { openLinks: {}, serverTools: {}, message: { text: {} } },
    { hostContext: { theme, displayMode: "inline", platform: "web", timeZone: "Europe/Paris", locale: "en-GB" } });
  bridge.oncalltool = async (params) => {
    host.calls.push(params.name);
    const r = await fetch("/call", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(params) });
    if (!r.ok) throw new Error(await r.text());
    return r.json();
  };
  bridge.onmessage = async (params) => {
    host.messages.push(params.content.map((c) => c.text).join("\n"));
    return {};
  };
  bridge.onopenlink = async ({ url }) => {
    host.links.push(url);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    host.sizes.push(height);
    if (height) frame.style.height = height + "px";
  };
  bridge.oninitialized = async () => {
    await bridge.sendToolInput({ arguments: input });
    await bridge.sendToolResult(result);
    host.ready = true;
  };
  // Listening before the view loads: its first message is ui/initialize.
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  frame.srcdoc = html;
};

// Lists graphgate's tools and calls a read and a write tool, and tools of
// capabilities (find_people, create_event, list_chats, search_sites,
// list_tasks, list_files in a library), with the official TypeScript MCP
// client, pinned to protocol 2026-07-28; then, as a client that declares MCP
// Apps, lists the views and reads one. Run by the Go test
// TestTypeScriptClient with GRAPHGATE_MCP_URL and GRAPHGATE_MCP_TOKEN set.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const url = process.env.GRAPHGATE_MCP_URL;
const token = process.env.GRAPHGATE_MCP_TOKEN;
if (!url || !token) {
  console.error('set GRAPHGATE_MCP_URL and GRAPHGATE_MCP_TOKEN');
  process.exit(2);
}

const client = new Client(
  { name: 'graphgate-ts-check', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } },
);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
await client.connect(transport);

const { tools } = await client.listTools();
const read = await client.callTool({ name: 'list_messages', arguments: { page_size: 3 } });
const write = await client.callTool({ name: 'create_folder', arguments: { name: 'From TypeScript' } });
const people = await client.callTool({ name: 'find_people', arguments: { query: 'meg' } });
const event = await client.callTool({
  name: 'create_event',
  arguments: { subject: 'From TypeScript', start: '2026-12-21T09:00', end: '2026-12-21T09:30', time_zone: 'Europe/Berlin' },
});
const chats = await client.callTool({ name: 'list_chats', arguments: {} });
const sites = await client.callTool({ name: 'search_sites', arguments: { query: 'marketing' } });
const library = await client.callTool({
  name: 'list_files',
  arguments: { site: sites.structuredContent?.sites?.[0]?.url ?? '' },
});
const tasks = await client.callTool({ name: 'list_tasks', arguments: {} });
await client.close();

// A client that shows MCP Apps sees the views; the one above saw none.
const apps = new Client(
  { name: 'graphgate-ts-apps-check', version: '1.0.0' },
  {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } } },
  },
);
await apps.connect(new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
}));
const appTools = (await apps.listTools()).tools;
const { resources } = await apps.listResources();
const page = await apps.readResource({ uri: 'ui://graphgate/message' });
await apps.close();
console.log(JSON.stringify({
  chats: chats.structuredContent?.chats?.length ?? 0,
  site: sites.structuredContent?.sites?.[0]?.name ?? '',
  library: (library.structuredContent?.items ?? []).map((i) => i.name),
  tasks: tasks.structuredContent?.tasks?.length ?? 0,
  people: (people.structuredContent?.people ?? []).map((p) => p.email),
  eventStart: event.structuredContent?.start ?? '',
  tools: tools.map((t) => t.name),
  readError: read.isError ?? false,
  messages: read.structuredContent?.messages?.length ?? 0,
  writeError: write.isError ?? false,
  folder: write.structuredContent?.path ?? '',
  plainView: tools.find((t) => t.name === 'get_message')?._meta?.ui?.resourceUri ?? '',
  appsView: appTools.find((t) => t.name === 'get_message')?._meta?.ui?.resourceUri ?? '',
  resources: resources.map((r) => r.uri),
  viewMime: page.contents?.[0]?.mimeType ?? '',
}));

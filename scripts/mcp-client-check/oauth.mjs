// Connects to graphgate's MCP server with the URL alone, through the official
// TypeScript MCP client's own OAuth support: discovery from the 401, Dynamic
// Client Registration, PKCE, a loopback redirect. It prints the authorization
// URL as {"authorize": url} for a browser to open (the Go test
// TestTypeScriptClientOAuth drives Chromium to sign in and click Allow),
// waits for the redirect, then lists the tools and calls one, and prints
// the result as the last line. GRAPHGATE_MCP_URL names the endpoint.
import http from 'node:http';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

const url = process.env.GRAPHGATE_MCP_URL;
if (!url) {
  console.error('set GRAPHGATE_MCP_URL');
  process.exit(2);
}

// The loopback redirect: a one-shot server for the authorization response.
let gotCallback;
const callback = new Promise((resolve) => { gotCallback = resolve; });
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname === '/callback') {
    res.end('graphgate connected; you can close this window.');
    gotCallback(u.searchParams);
  } else {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const redirectUrl = `http://127.0.0.1:${server.address().port}/callback`;

// An in-memory OAuth client provider.
const store = {};
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return { client_name: 'TypeScript MCP client', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'mail.read profile' };
  },
  state() { return 'ts-state-1'; },
  clientInformation() { return store.client; },
  saveClientInformation(info) { store.client = info; },
  tokens() { return store.tokens; },
  saveTokens(tokens) { store.tokens = tokens; },
  redirectToAuthorization(authorizationUrl) { console.log(JSON.stringify({ authorize: authorizationUrl.toString() })); },
  saveCodeVerifier(v) { store.verifier = v; },
  codeVerifier() { return store.verifier; },
};

const newClient = () => new Client({ name: 'graphgate-ts-oauth-check', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } });
let client = newClient();
let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
try {
  await client.connect(transport);
  await client.listTools();
} catch (err) {
  if (!(err instanceof UnauthorizedError)) throw err;
  const params = await callback;
  if (params.get('state') !== 'ts-state-1') throw new Error('state mismatch');
  await transport.finishAuth(params);
  client = newClient();
  transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await client.connect(transport);
}
const { tools } = await client.listTools();
const profile = await client.callTool({ name: 'get_profile', arguments: {} });
console.log(JSON.stringify({
  tools: tools.map((t) => t.name),
  profileError: profile.isError ?? false,
  email: profile.structuredContent?.email ?? '',
  scope: store.tokens?.scope ?? '',
}));
await client.close();
server.close();

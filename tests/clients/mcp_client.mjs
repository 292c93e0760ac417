// An MCP client on the official TypeScript SDK v2 (`@modelcontextprotocol/client` on npm), in
// the modern (2026-07-28) or the legacy (initialize + session) era, that checks what it did on
// the wire. The same options and checks as mcp_client.py:
//
//   node mcp_client.mjs <url> [--mode auto|modern|legacy] [--tool NAME [--args JSON]
//       [--expect TEXT]] [--resource URI [--expect-resource TEXT]]
//       [--elicit-tool NAME [--elicit-args JSON] [--answer JSON] [--expect-elicit TEXT]]
//
// --mode auto is `versionNegotiation: { mode: 'auto' }` (probe `server/discover`; must end up
// modern), modern is `{ mode: { pin: '2026-07-28' } }`, legacy is the SDK's default (the
// initialize handshake). The script must sit next to a node_modules with the SDK (ESM resolves
// packages from the importing file's directory). Prints what it did, ends with `OK`; exit 1 on
// any failure. Hard timeout 30 s.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const MODERN = '2026-07-28';

function parseArgs(argv) {
  const opts = { mode: 'auto', args: '{}', elicitArgs: '{}', answer: '{"name":"Alice"}' };
  const names = {
    '--mode': 'mode', '--tool': 'tool', '--args': 'args', '--expect': 'expect',
    '--resource': 'resource', '--expect-resource': 'expectResource',
    '--elicit-tool': 'elicitTool', '--elicit-args': 'elicitArgs', '--answer': 'answer',
    '--expect-elicit': 'expectElicit',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in names) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      opts[names[a]] = argv[++i];
    } else if (a.startsWith('--')) {
      throw new Error(`unknown option ${a}`);
    } else if (!opts.url) {
      opts.url = a;
    } else {
      throw new Error(`unexpected argument ${a}`);
    }
  }
  if (!opts.url) throw new Error('usage: node mcp_client.mjs <url> [--mode auto|modern|legacy] ...');
  if (!['auto', 'modern', 'legacy'].includes(opts.mode)) throw new Error(`bad --mode ${opts.mode}`);
  return opts;
}

function fail(message) {
  throw new Error(message);
}

const textOf = (result) => (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');

// Every HTTP exchange: the request headers and JSON-RPC methods, and any session id either way.
const wire = { posts: [], sessions: [] };
async function recordingFetch(input, init = {}) {
  const headers = new Headers(init.headers ?? {});
  const method = (init.method ?? 'GET').toUpperCase();
  const sid = headers.get('mcp-session-id');
  if (sid) wire.sessions.push(`request ${method} sent Mcp-Session-Id ${sid}`);
  if (method === 'POST' && typeof init.body === 'string') {
    let body = null;
    try { body = JSON.parse(init.body); } catch { /* not JSON: not ours to check */ }
    for (const msg of Array.isArray(body) ? body : [body]) {
      if (msg && typeof msg === 'object' && 'method' in msg) {
        wire.posts.push({
          method: msg.method,
          params: msg.params ?? {},
          version: headers.get('mcp-protocol-version'),
          mcpMethod: headers.get('mcp-method'),
          mcpName: headers.get('mcp-name'),
        });
      }
    }
  }
  const response = await fetch(input, init);
  const back = response.headers.get('mcp-session-id');
  if (back) wire.sessions.push(`response to ${method} carried Mcp-Session-Id ${back}`);
  return response;
}

function checkModernWire() {
  if (wire.sessions.length) fail(`a session was used in the modern era: ${wire.sessions.join('; ')}`);
  for (const post of wire.posts) {
    const { method } = post;
    if (method === 'initialize') fail('the client sent initialize in the modern era');
    if (method.startsWith('notifications/')) continue;
    if (post.version !== MODERN) fail(`${method} went with MCP-Protocol-Version ${post.version}`);
    if (post.mcpMethod !== method) fail(`${method} went with Mcp-Method ${post.mcpMethod}`);
    const meta = post.params._meta ?? {};
    if (meta['io.modelcontextprotocol/protocolVersion'] !== MODERN) {
      fail(`${method} carried no io.modelcontextprotocol/protocolVersion ${MODERN} in _meta`);
    }
    const key = { 'tools/call': 'name', 'resources/read': 'uri', 'prompts/get': 'name' }[method];
    if (key && post.mcpName !== post.params[key]) {
      fail(`${method} went with Mcp-Name ${post.mcpName}, not ${post.params[key]}`);
    }
  }
}

async function main(opts) {
  const answer = JSON.parse(opts.answer);
  const negotiation = {
    auto: { mode: 'auto' },
    modern: { mode: { pin: MODERN } },
    legacy: { mode: 'legacy' },
  }[opts.mode];
  const client = new Client(
    { name: 'sunpeak-test-ts-client', version: '0.1.0' },
    { capabilities: { elicitation: { form: {} } }, versionNegotiation: negotiation },
  );
  const asked = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params);
    console.log('elicitation:', JSON.stringify(request.params));
    return { action: 'accept', content: answer };
  });
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), { fetch: recordingFetch });
  await client.connect(transport);
  const version = client.getNegotiatedProtocolVersion();
  const era = client.getProtocolEra();
  const info = client.getServerVersion();
  console.log('protocol:', version, 'era:', era, 'server:', info ? `${info.name} ${info.version}` : 'unnamed');
  if (opts.mode === 'legacy') {
    if (era !== 'legacy' || version === MODERN) fail(`legacy mode negotiated ${version} (${era})`);
  } else if (version !== MODERN || era !== 'modern') {
    fail(`protocol version ${version} (${era}), not ${MODERN}`);
  }

  const tools = await client.listTools();
  const names = tools.tools.map((t) => t.name);
  console.log('tools:', names.join(', '));
  if (opts.tool) {
    if (!names.includes(opts.tool)) fail(`${opts.tool} is not listed`);
    const r = await client.callTool({ name: opts.tool, arguments: JSON.parse(opts.args) });
    console.log('callTool:', JSON.stringify(r));
    if (r.isError) fail(`${opts.tool} answered isError`);
    if (opts.expect && !JSON.stringify(r).includes(opts.expect)) {
      fail(`${opts.tool}'s result does not contain ${JSON.stringify(opts.expect)}`);
    }
  }
  if (opts.resource) {
    const r = await client.readResource({ uri: opts.resource });
    const dumped = JSON.stringify(r);
    console.log('readResource:', dumped.length > 300 ? `${dumped.slice(0, 300)}...` : dumped);
    if (!r.contents?.length) fail(`${opts.resource} has no contents`);
    if (opts.expectResource && !dumped.includes(opts.expectResource)) {
      fail(`${opts.resource} does not contain ${JSON.stringify(opts.expectResource)}`);
    }
  }
  if (opts.elicitTool) {
    const r = await client.callTool({ name: opts.elicitTool, arguments: JSON.parse(opts.elicitArgs) });
    console.log('elicitTool:', JSON.stringify(r));
    if (asked.length !== 1) fail(`the elicitation handler ran ${asked.length} times, not once`);
    if (r.isError) fail(`${opts.elicitTool} answered isError: ${textOf(r)}`);
    if (opts.expectElicit && !textOf(r).includes(opts.expectElicit)) {
      fail(`${opts.elicitTool}'s text ${JSON.stringify(textOf(r))} does not contain ${JSON.stringify(opts.expectElicit)}`);
    }
    if (opts.mode !== 'legacy') {
      const calls = wire.posts.filter((p) => p.method === 'tools/call' && p.params.name === opts.elicitTool);
      if (calls.length !== 2 || !('requestState' in calls[1].params)) {
        fail(`expected a tools/call and one retry with requestState, saw ${calls.length} calls`);
      }
      console.log('rounds: 2 (input_required, then the retry with inputResponses and requestState)');
    }
  }
  if (opts.mode === 'legacy') {
    await transport.terminateSession().catch(() => {}); // HTTP DELETE (405 is fine)
  }
  await client.close();

  if (opts.mode !== 'legacy') {
    checkModernWire();
    console.log('session: none (no Mcp-Session-Id either way, no initialize)');
  } else {
    if (!wire.posts.some((p) => p.method === 'initialize')) fail('legacy mode sent no initialize');
    console.log('session:', wire.sessions[0] ?? 'none (stateless server)');
  }
  console.log('methods:', wire.posts.map((p) => p.method).join(', '));
  console.log('OK');
}

const timer = setTimeout(() => {
  console.error('ERROR: timeout after 30 s');
  process.exit(1);
}, 30_000);
try {
  await main(parseArgs(process.argv.slice(2)));
  clearTimeout(timer);
  process.exit(0);
} catch (e) {
  console.error('ERROR:', e?.stack ?? e);
  process.exit(1);
}

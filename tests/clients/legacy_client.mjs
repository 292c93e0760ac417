// An MCP client on the official TypeScript SDK v1 (`@modelcontextprotocol/sdk` 1.x, what most
// hosts run today), legacy era only (initialize + session), with an elicitation handler. The
// same options as mcp_client.mjs, without --mode:
//
//   node legacy_client.mjs <url> [--tool NAME [--args JSON] [--expect TEXT]]
//       [--resource URI [--expect-resource TEXT]]
//       [--elicit-tool NAME [--elicit-args JSON] [--answer JSON] [--expect-elicit TEXT]]
//
// The elicitation handler accepts with --answer and must be called exactly once. The script
// must sit next to a node_modules with the SDK. Prints what it did, ends with `OK`; exit 1 on
// any failure. Hard timeout 30 s.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

function parseArgs(argv) {
  const opts = { args: '{}', elicitArgs: '{}', answer: '{"name":"Alice"}' };
  const names = {
    '--tool': 'tool', '--args': 'args', '--expect': 'expect', '--resource': 'resource',
    '--expect-resource': 'expectResource', '--elicit-tool': 'elicitTool',
    '--elicit-args': 'elicitArgs', '--answer': 'answer', '--expect-elicit': 'expectElicit',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in names && i + 1 < argv.length) opts[names[a]] = argv[++i];
    else if (!a.startsWith('--') && !opts.url) opts.url = a;
    else throw new Error(`bad argument ${a}`);
  }
  if (!opts.url) throw new Error('usage: node legacy_client.mjs <url> [--tool NAME] ...');
  return opts;
}

const fail = (message) => { throw new Error(message); };
const textOf = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');

async function main(opts) {
  const client = new Client(
    { name: 'sunpeak-test-ts-legacy-client', version: '0.1.0' },
    { capabilities: { elicitation: { form: {} } } },
  );
  const asked = [];
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request.params);
    console.log('elicitation:', JSON.stringify(request.params));
    return { action: 'accept', content: JSON.parse(opts.answer) };
  });
  const transport = new StreamableHTTPClientTransport(new URL(opts.url));
  await client.connect(transport);
  const version = transport.protocolVersion;
  const info = client.getServerVersion();
  console.log('protocol:', version, 'server:', info ? `${info.name} ${info.version}` : 'unnamed');
  if (version !== LATEST_PROTOCOL_VERSION) fail(`negotiated ${version}, not ${LATEST_PROTOCOL_VERSION}`);

  const names = (await client.listTools()).tools.map((t) => t.name);
  console.log('tools:', names.join(', '));
  if (opts.tool) {
    if (!names.includes(opts.tool)) fail(`${opts.tool} is not listed`);
    const r = await client.callTool({ name: opts.tool, arguments: JSON.parse(opts.args) });
    console.log('callTool:', JSON.stringify(r));
    if (r.isError) fail(`${opts.tool} answered isError`);
    if (opts.expect && !JSON.stringify(r).includes(opts.expect)) fail(`${opts.tool}'s result lacks ${opts.expect}`);
  }
  if (opts.resource) {
    const r = await client.readResource({ uri: opts.resource });
    const dumped = JSON.stringify(r);
    console.log('readResource:', dumped.length > 300 ? `${dumped.slice(0, 300)}...` : dumped);
    if (!r.contents?.length) fail(`${opts.resource} has no contents`);
    if (opts.expectResource && !dumped.includes(opts.expectResource)) fail(`${opts.resource} lacks ${opts.expectResource}`);
  }
  if (opts.elicitTool) {
    const r = await client.callTool({ name: opts.elicitTool, arguments: JSON.parse(opts.elicitArgs) });
    console.log('elicitTool:', JSON.stringify(r));
    if (asked.length !== 1) fail(`the elicitation handler ran ${asked.length} times, not once`);
    if (r.isError) fail(`${opts.elicitTool} answered isError: ${textOf(r)}`);
    if (opts.expectElicit && !textOf(r).includes(opts.expectElicit)) {
      fail(`${opts.elicitTool}'s text ${JSON.stringify(textOf(r))} lacks ${JSON.stringify(opts.expectElicit)}`);
    }
  }
  console.log('session:', transport.sessionId ?? 'none (stateless server)');
  await transport.terminateSession().catch(() => {}); // HTTP DELETE (405 is fine)
  await client.close();
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

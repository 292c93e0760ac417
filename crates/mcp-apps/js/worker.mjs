// sunpeak-rs Node.js tool worker.
//
// The Rust host (crates/mcp-apps/src/node) starts this script with `node worker.mjs` and the path
// of a private Unix domain socket in SUNPEAK_WORKER_SOCKET. Everything the host and the worker say
// to each other goes over that socket as newline-delimited JSON frames `{"t": <kind>, ...}`;
// stdout and stderr are never part of the protocol (console output is forwarded as `log` frames,
// tagged with the tool whose handler wrote it).
//
// host -> worker: load, call, cancel, auth, response (to a worker request), ping
// worker -> host: loaded | loadError, calltool, notify, request, cancelRequest, done, authed
//                 (info, denied or fail),
//                 log, pong
//
// Tool semantics follow `sunpeak start` 0.20 on @modelcontextprotocol/sdk 1.29 (McpServer):
// schema conversion, argument validation, result normalisation and the error texts.

import { createConnection } from 'node:net';
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const SOCKET = process.env.SUNPEAK_WORKER_SOCKET;
delete process.env.SUNPEAK_WORKER_SOCKET;
const rawStderrWrite = process.stderr.write.bind(process.stderr);
if (!SOCKET) {
  rawStderrWrite('sunpeak worker: SUNPEAK_WORKER_SOCKET is not set; this script is started by sunpeak\n');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Channel
// ---------------------------------------------------------------------------------------------

const channel = createConnection(SOCKET);
let channelOpen = true;

function send(frame) {
  if (channelOpen) channel.write(JSON.stringify(frame) + '\n');
}

channel.setEncoding('utf8');
channel.on('error', (err) => {
  rawStderrWrite(`sunpeak worker: channel error: ${err.message}\n`);
});
// The host closed the channel (shutdown) or went away: nothing left to do.
channel.on('close', () => {
  channelOpen = false;
  process.exit(0);
});

let partial = '';
channel.on('data', (chunk) => {
  let start = 0;
  let nl;
  while ((nl = chunk.indexOf('\n', start)) !== -1) {
    const line = partial + chunk.slice(start, nl);
    partial = '';
    start = nl + 1;
    if (line.length > 0) dispatch(line);
  }
  partial += chunk.slice(start);
});

function dispatch(line) {
  let frame;
  try {
    frame = JSON.parse(line);
  } catch (err) {
    rawStderrWrite(`sunpeak worker: ignoring a malformed frame: ${err.message}\n`);
    return;
  }
  switch (frame.t) {
    case 'call':
      runCall(frame);
      break;
    case 'ping':
      send({ t: 'pong', n: frame.n });
      break;
    case 'cancel':
      cancelCall(frame.id, frame.why);
      break;
    case 'auth':
      runAuth(frame);
      break;
    case 'response':
      settleRequest(frame);
      break;
    case 'load':
      load(frame).catch((err) => send({ t: 'loadError', message: errorText(err) }));
      break;
    default:
      rawStderrWrite(`sunpeak worker: ignoring a frame of unknown kind ${JSON.stringify(frame.t)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Console output: forwarded to the host log, tagged with the tool (or auth) that wrote it
// ---------------------------------------------------------------------------------------------

const scope = new AsyncLocalStorage();

// A console entry longer than this is cut: one `console.log(hugeString)` must not become a frame
// of hundreds of MiB for the host to buffer, parse and print as one log line.
const MAX_LOG_CHARS = 64 * 1024;

function emitLog(level, text) {
  if (text.length === 0) return;
  if (text.length > MAX_LOG_CHARS) {
    text = `${text.slice(0, MAX_LOG_CHARS)}... [${text.length - MAX_LOG_CHARS} more characters]`;
  }
  const s = scope.getStore();
  send(s ? { t: 'log', lv: level, src: s.src, tool: s.tool, msg: text } : { t: 'log', lv: level, msg: text });
}

for (const [method, level] of [
  ['log', 'info'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['debug', 'debug'],
]) {
  console[method] = (...args) => emitLog(level, format(...args));
}
console.trace = function trace(...args) {
  const err = { name: 'Trace', message: format(...args) };
  Error.captureStackTrace(err, trace);
  emitLog('debug', err.stack);
};

function patchStream(stream, level) {
  stream.write = (chunk, encoding, cb) => {
    if (typeof encoding === 'function') cb = encoding;
    let text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    emitLog(level, text);
    if (typeof cb === 'function') process.nextTick(cb);
    return true;
  };
}
patchStream(process.stdout, 'info');
patchStream(process.stderr, 'warn');

// A forgotten promise in a handler must not take the worker (and every call on it) down.
process.on('unhandledRejection', (reason) => {
  emitLog('error', `Unhandled promise rejection: ${reason instanceof Error ? reason.stack : format(reason)}`);
});

// ---------------------------------------------------------------------------------------------
// Errors and helpers
// ---------------------------------------------------------------------------------------------

// Same shape and message as the SDK's McpError.
class McpError extends Error {
  constructor(code, message, data) {
    super(`MCP error ${code}: ${message}`);
    this.code = code;
    this.data = data;
    this.name = 'McpError';
  }
}

const INVALID_PARAMS = -32602;
const CONNECTION_CLOSED = -32000;
const REQUEST_TIMEOUT = -32001;
// A request to the client that ended because its tool call was cancelled (JSON-RPC
// implementations' "request cancelled").
const REQUEST_CANCELLED = -32800;
const URL_ELICITATION_REQUIRED = -32042;
const EMPTY_OBJECT_JSON_SCHEMA = { type: 'object', properties: {} };

function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

// The SDK's getParseErrorMessage, as npm `sunpeak start` 0.20.79 runs it (its
// `@modelcontextprotocol/sdk ^1.29.0` resolves to 1.32.x, which formats zod issues as
// `<message> at <dot.path[0]>` lines; 1.29 printed the issues as pretty JSON).
function parseErrorMessage(error) {
  if (error && typeof error === 'object') {
    if ('issues' in error && Array.isArray(error.issues) && error.issues.length > 0) {
      return error.issues
        .map((issue) => (issue?.path?.length ? `${issue.message} at ${dotPath(issue.path)}` : issue?.message))
        .join('\n');
    }
    if ('message' in error && typeof error.message === 'string') return error.message;
    try {
      return JSON.stringify(error);
    } catch {
      return String(error);
    }
  }
  return String(error);
}

function dotPath(path) {
  return path.reduce((acc, seg, index) => {
    if (index === 0) return String(seg);
    return typeof seg === 'number' ? `${acc}[${seg}]` : `${acc}.${seg}`;
  }, '');
}

// ---------------------------------------------------------------------------------------------
// Resolving the project's own packages (zod) the way `import 'zod'` in a tool module does
// ---------------------------------------------------------------------------------------------

const ESM_CONDITIONS = new Set(['node', 'import', 'default']);

function pickExportTarget(target) {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = pickExportTarget(t);
      if (r) return r;
    }
    return null;
  }
  if (target && typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (ESM_CONDITIONS.has(condition)) {
        const r = pickExportTarget(value);
        if (r) return r;
      }
    }
  }
  return null;
}

function findPackageDir(fromDir, pkg) {
  for (let dir = fromDir; ; ) {
    const candidate = join(dir, 'node_modules', pkg);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

const packageCache = new Map();

// import(`${pkg}/${subpath}`) as seen from a module in `fromDir` (ESM conditions).
function importPackage(fromDir, pkg, subpath) {
  const dir = findPackageDir(fromDir, pkg);
  if (!dir) return Promise.reject(new Error(`the package "${pkg}" cannot be found from ${fromDir}`));
  const key = `${dir}\0${subpath}`;
  let loading = packageCache.get(key);
  if (!loading) {
    loading = (async () => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      let rel;
      if (manifest.exports !== undefined && manifest.exports !== null) {
        let exp = manifest.exports;
        if (typeof exp === 'string' || Array.isArray(exp) || !Object.keys(exp).some((k) => k.startsWith('.'))) {
          exp = { '.': exp };
        }
        const name = subpath ? `./${subpath}` : '.';
        rel = name in exp ? pickExportTarget(exp[name]) : null;
        if (!rel) throw new Error(`the package "${pkg}" does not export "${name}"`);
      } else {
        rel = subpath || manifest.main || 'index.js';
      }
      return import(pathToFileURL(join(dir, rel)).href);
    })();
    packageCache.set(key, loading);
  }
  return loading;
}

// ---------------------------------------------------------------------------------------------
// Schemas (SDK 1.29 semantics: zod-compat.js, zod-json-schema-compat.js, mcp.js)
// ---------------------------------------------------------------------------------------------

const isZ4 = (s) => !!s?._zod;
const isZodTypeLike = (v) =>
  v !== null && typeof v === 'object' && typeof v.parse === 'function' && typeof v.safeParse === 'function';
const isZodInstance = (o) => '_def' in o || '_zod' in o || isZodTypeLike(o);

function isRawShape(o) {
  if (typeof o !== 'object' || o === null) return false;
  if (isZodInstance(o)) return false;
  if (Object.keys(o).length === 0) return true;
  return Object.values(o).some(isZodTypeLike);
}

// zod 3.25+ and 4.x export the Zod 3 API as `zod/v3`; older zod 3 releases are it.
async function importZod3(fromDir) {
  try {
    return await importPackage(fromDir, 'zod', 'v3');
  } catch {
    const zod = await importPackage(fromDir, 'zod', '');
    return zod.z ?? zod;
  }
}

// A `schema`/`outputSchema` export, ready for listing and parsing:
// {kind: 'zod4'|'zod3', schema, mini, fromDir} or {kind: 'json', json}; null when absent.
async function prepareSchema(value, fromDir) {
  if (!value) return null;
  if (typeof value !== 'object') {
    throw new Error(`expected a Zod schema, a Zod raw shape or a JSON Schema object, got ${typeof value}`);
  }
  let schema;
  if (isRawShape(value)) {
    const values = Object.values(value);
    if (values.every(isZ4)) {
      schema = (await importPackage(fromDir, 'zod', 'v4-mini')).object(value);
    } else if (values.every((v) => !isZ4(v))) {
      schema = (await importZod3(fromDir)).object(value);
    } else {
      throw new Error('Mixed Zod versions detected in object shape.');
    }
  } else if (isZodInstance(value)) {
    schema = value;
  } else {
    // Our extension: a plain JSON Schema object is listed as is (sunpeak rejects it).
    return { kind: 'json', json: value };
  }
  if (isZ4(schema)) {
    let mini = null;
    try {
      mini = await importPackage(fromDir, 'zod', 'v4-mini');
    } catch (err) {
      if (typeof schema.safeParseAsync !== 'function' || typeof schema.toJSONSchema !== 'function') throw err;
    }
    return { kind: 'zod4', schema, mini, fromDir };
  }
  return { kind: 'zod3', schema, mini: null, fromDir };
}

// The SDK's normalizeObjectSchema for an already-built schema.
function objectSchemaOf(schema) {
  if (isZ4(schema)) {
    const def = schema._zod?.def;
    return def && (def.type === 'object' || def.shape !== undefined) ? schema : undefined;
  }
  return schema.shape !== undefined ? schema : undefined;
}

async function schemaJson(prepared, io) {
  if (prepared.kind === 'json') return prepared.json;
  const obj = objectSchemaOf(prepared.schema);
  if (!obj) return io === 'input' ? EMPTY_OBJECT_JSON_SCHEMA : undefined;
  if (prepared.kind === 'zod4') {
    const params = { target: 'draft-7', io };
    return prepared.mini ? prepared.mini.toJSONSchema(obj, params) : obj.toJSONSchema(params);
  }
  const { zodToJsonSchema } = await importPackage(prepared.fromDir, 'zod-to-json-schema', '');
  return zodToJsonSchema(obj, { strictUnions: true, pipeStrategy: io });
}

function safeParseAsync(prepared, data) {
  const target = objectSchemaOf(prepared.schema) ?? prepared.schema;
  if (prepared.kind === 'zod4' && prepared.mini) return prepared.mini.safeParseAsync(target, data);
  return target.safeParseAsync(data);
}

// ---------------------------------------------------------------------------------------------
// Loading dist/tools/*.js and dist/server.js
// ---------------------------------------------------------------------------------------------

const tools = new Map();
let authFn = null;
let projectRoot = process.cwd();
const CONFIG_KEYS = new Set(['resource', 'title', 'description', 'annotations', '_meta']);

function pickConfig(tool) {
  const out = {};
  if (tool && typeof tool === 'object') {
    for (const key of Object.keys(tool)) if (CONFIG_KEYS.has(key)) out[key] = tool[key];
  }
  return out;
}

async function load(frame) {
  if (typeof frame.root === 'string') projectRoot = frame.root;
  const warnings = [];
  const list = [];
  for (const { name, file } of frame.tools) {
    let mod;
    try {
      // Console output of the module's top level is tagged with the tool too.
      mod = await scope.run({ src: 'tool', tool: name }, () => import(pathToFileURL(file).href));
    } catch (err) {
      send({ t: 'loadError', message: `Failed to load tool ${name}: ${err?.message}` });
      return;
    }
    const fileName = basename(file);
    if (!mod.tool) {
      warnings.push(`No "tool" export in ${fileName}. Skipping.`);
      continue;
    }
    if (!mod.default || typeof mod.default !== 'function') {
      warnings.push(`No default handler export in ${fileName}. Skipping.`);
      continue;
    }
    let input;
    let output;
    let entry;
    try {
      input = await prepareSchema(mod.schema, dirname(file));
      output = await prepareSchema(mod.outputSchema, dirname(file));
      const inputJson = input ? await schemaJson(input, 'input') : EMPTY_OBJECT_JSON_SCHEMA;
      const outputJson = output ? await schemaJson(output, 'output') : undefined;
      entry = { name, config: pickConfig(mod.tool), input: inputJson, output: outputJson };
      JSON.stringify(entry); // fail here, with the tool's name, if something cannot be serialised
    } catch (err) {
      send({ t: 'loadError', message: `Failed to load tool ${name}: ${errorText(err)}` });
      return;
    }
    tools.set(name, { handler: mod.default, input, output });
    list.push(entry);
  }
  let server = null;
  if (frame.server) {
    let mod;
    try {
      mod = await import(pathToFileURL(frame.server).href);
    } catch (err) {
      send({ t: 'loadError', message: `Failed to load server entry: ${err?.message}` });
      return;
    }
    if (typeof mod.auth === 'function') authFn = mod.auth;
    server = { hasAuth: authFn !== null, config: mod.server ? mod.server : null };
    try {
      JSON.stringify(server);
    } catch (err) {
      send({ t: 'loadError', message: `Failed to load server entry: the "server" export cannot be serialised to JSON: ${errorText(err)}` });
      return;
    }
    // sunpeak takes any truthy object as the OAuth protected-resource config.
    if (mod.oauth && typeof mod.oauth === 'object') {
      try {
        server.oauth = JSON.parse(JSON.stringify(mod.oauth));
      } catch (err) {
        send({ t: 'loadError', message: `Failed to load server entry: the "oauth" export cannot be serialised to JSON: ${errorText(err)}` });
        return;
      }
    }
  }
  send({ t: 'loaded', tools: list, server, warnings });
}

// ---------------------------------------------------------------------------------------------
// Tool calls
// ---------------------------------------------------------------------------------------------

const running = new Map(); // call id -> {controller, tool}

function cancelCall(id, why) {
  const call = running.get(id);
  if (!call) return;
  running.delete(id);
  const reason = why === 'timeout' ? new DOMException('The operation was aborted due to timeout', 'TimeoutError') : undefined;
  // Abort listeners run synchronously here: give their console output the tool's name.
  scope.run({ src: 'tool', tool: call.tool }, () => {
    call.controller.abort(reason);
    // Its requests to the client will never be answered (an MCP 2026-07-28 round ends the
    // call when the handler asks; the retry runs the handler again): settle them now, so the
    // handler run ends instead of waiting for the request timeout.
    for (const cancel of [...(pendingByCall.get(id) ?? [])]) {
      cancel(new McpError(REQUEST_CANCELLED, 'The tool call was cancelled'));
    }
  });
}

function runCall(frame) {
  const controller = new AbortController();
  const call = { controller, tool: frame.tool };
  running.set(frame.id, call);
  scope
    .run({ src: 'tool', tool: frame.tool }, () => executeCall(frame, controller))
    .catch((err) => ({
      t: 'done',
      id: frame.id,
      result: { content: [{ type: 'text', text: errorText(err) }], isError: true },
    }))
    .then((reply) => {
      if (running.get(frame.id) !== call) return; // cancelled or timed out: nobody waits
      running.delete(frame.id);
      try {
        send(reply);
      } catch (err) {
        send({
          t: 'done',
          id: frame.id,
          error: { code: -32603, message: `Tool ${frame.tool} returned a result that cannot be serialised to JSON: ${errorText(err)}` },
        });
      }
    });
}

async function executeCall(frame, controller) {
  const name = frame.tool;
  let result;
  try {
    const tool = tools.get(name);
    if (!tool) throw new McpError(INVALID_PARAMS, `Tool ${name} not found`);
    let args;
    if (tool.input && tool.input.kind !== 'json') {
      // SDK 1.32 parses missing arguments as {}.
      const parsed = await safeParseAsync(tool.input, frame.args ?? {});
      if (!parsed.success) {
        throw new McpError(
          INVALID_PARAMS,
          `Input validation error: Invalid arguments for tool ${name}: ${parseErrorMessage(parsed.error)}`,
        );
      }
      args = parsed.data;
    } else {
      // sunpeak passes {} to tools without a schema (their arguments are lost); we pass them on.
      args = frame.args ?? {};
    }
    send({ t: 'calltool', id: frame.id, keys: args && typeof args === 'object' ? Object.keys(args).join(', ') : '' });
    result = await tool.handler(args, makeExtra(frame, controller));
    if (typeof result === 'string') result = { content: [{ type: 'text', text: result }] };
    if (tool.output) await validateOutput(tool.output, result, name);
  } catch (error) {
    if (isUrlElicitationRequired(error)) {
      return { t: 'done', id: frame.id, error: { code: error.code, message: error.message, data: error.data } };
    }
    result = { content: [{ type: 'text', text: errorText(error) }], isError: true };
  }
  const normalised = await normaliseResult(result);
  if (normalised.ok) return { t: 'done', id: frame.id, result: normalised.value };
  return {
    t: 'done',
    id: frame.id,
    error: { code: INVALID_PARAMS, message: `MCP error ${INVALID_PARAMS}: Invalid tools/call result: ${normalised.message}` },
  };
}

function isUrlElicitationRequired(error) {
  return (
    error instanceof Error &&
    error.code === URL_ELICITATION_REQUIRED &&
    (error.name === 'McpError' || error.name === 'UrlElicitationRequiredError')
  );
}

// The SDK's McpServer.validateToolOutput, including its quirks: a result without a `content` key
// is not checked, and a non-object result throws a TypeError whose message becomes the error text.
async function validateOutput(prepared, result, name) {
  if (!('content' in result)) return;
  if (result.isError) return;
  if (!result.structuredContent) {
    throw new McpError(
      INVALID_PARAMS,
      `Output validation error: Tool ${name} has an output schema but no structured content was provided`,
    );
  }
  if (prepared.kind === 'json') return; // a plain JSON Schema is published, not enforced
  const parsed = await safeParseAsync(prepared, result.structuredContent);
  if (!parsed.success) {
    throw new McpError(
      INVALID_PARAMS,
      `Output validation error: Invalid structured content for tool ${name}: ${parseErrorMessage(parsed.error)}`,
    );
  }
}

function makeExtra(frame, controller) {
  const ctx = frame.ctx ?? {};
  const id = frame.id;
  const requestInfo = { headers: ctx.headers ?? {} };
  if (typeof ctx.url === 'string') {
    try {
      requestInfo.url = new URL(ctx.url);
    } catch {
      // leave it out rather than fail the call
    }
  }
  // Same keys, in the same order, as the SDK's RequestHandlerExtra.
  return {
    signal: controller.signal,
    sessionId: ctx.sessionId,
    _meta: ctx._meta,
    sendNotification: async (notification) => {
      if (controller.signal.aborted) return;
      send({ t: 'notify', id, method: notification.method, params: notification.params });
    },
    sendRequest: async (request, resultSchema, options) => {
      if (controller.signal.aborted) throw new McpError(CONNECTION_CLOSED, 'Request was cancelled');
      return clientRequest(id, request, resultSchema, options);
    },
    authInfo: ctx.authInfo,
    requestId: ctx.requestId,
    requestInfo,
    taskId: undefined,
    taskStore: undefined,
    taskRequestedTtl: undefined,
    closeSSEStream: undefined,
    closeStandaloneSSEStream: undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Requests from a handler to the client (sampling, elicitation, roots), via the host
// ---------------------------------------------------------------------------------------------

const DEFAULT_REQUEST_TIMEOUT_MSEC = 60000;
const requests = new Map(); // rid -> settle(frame)
const pendingByCall = new Map(); // call id -> Set of cancel(reason) of its open requests
let nextRid = 1;

function clientRequest(callId, request, resultSchema, options) {
  return new Promise((resolve, reject) => {
    options?.signal?.throwIfAborted();
    const rid = nextRid++;
    let timer;
    let pending = pendingByCall.get(callId);
    if (!pending) {
      pending = new Set();
      pendingByCall.set(callId, pending);
    }
    const finish = () => {
      requests.delete(rid);
      clearTimeout(timer);
      pending.delete(cancel);
      if (pending.size === 0 && pendingByCall.get(callId) === pending) pendingByCall.delete(callId);
    };
    const cancel = (reason) => {
      if (!requests.has(rid)) return;
      finish();
      send({ t: 'cancelRequest', rid });
      reject(reason instanceof McpError ? reason : new McpError(REQUEST_TIMEOUT, String(reason)));
    };
    pending.add(cancel);
    requests.set(rid, (frame) => {
      finish();
      if (options?.signal?.aborted) return;
      if (frame.error) {
        const e = frame.error;
        reject(new McpError(e.code, e.message, e.data));
        return;
      }
      try {
        const parsed = parseClientResult(resultSchema, frame.result);
        if (parsed.success) resolve(parsed.data);
        else reject(parsed.error);
      } catch (err) {
        reject(err);
      }
    });
    const timeout = options?.timeout ?? DEFAULT_REQUEST_TIMEOUT_MSEC;
    timer = setTimeout(() => cancel(new McpError(REQUEST_TIMEOUT, 'Request timed out', { timeout })), timeout);
    options?.signal?.addEventListener('abort', () => cancel(options.signal.reason), { once: true });
    send({ t: 'request', id: callId, rid, method: request.method, params: request.params });
  });
}

function parseClientResult(schema, data) {
  if (!schema) return { success: true, data };
  if (typeof schema.safeParse === 'function') return schema.safeParse(data);
  throw new Error('sendRequest: the result schema has no safeParse method');
}

function settleRequest(frame) {
  const settle = requests.get(frame.rid);
  if (settle) settle(frame);
}

// ---------------------------------------------------------------------------------------------
// auth(req, context) from dist/server.js
// ---------------------------------------------------------------------------------------------

// An AuthorizationFailure: `{ authorized: false, status?, error?, errorDescription?, scopes? }`.
function isAuthorizationFailure(value) {
  return typeof value === 'object' && value !== null && 'authorized' in value && value.authorized === false;
}

function runAuth(frame) {
  scope
    .run({ src: 'auth' }, async () => {
      if (!authFn) return { info: null };
      const req = frame.req ?? {};
      // `body` is the parsed JSON of a POST, `undefined` otherwise (always present as a key).
      const context = { body: typeof frame.body === 'string' ? JSON.parse(frame.body) : undefined };
      const result = await authFn({ headers: req.headers ?? {}, method: req.method, url: req.url }, context);
      if (isAuthorizationFailure(result)) {
        const { status, error, errorDescription, scopes } = result;
        return { denied: { status, error, errorDescription, scopes } };
      }
      return { info: result ? result : null };
    })
    .then(
      (answer) => {
        try {
          send({ t: 'authed', id: frame.id, ...answer });
        } catch (err) {
          send({ t: 'authed', id: frame.id, fail: `auth() returned a value that cannot be serialised to JSON: ${errorText(err)}` });
        }
      },
      (err) => send({ t: 'authed', id: frame.id, fail: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
}

// ---------------------------------------------------------------------------------------------
// CallToolResult validation (the SDK's CallToolResultSchema, a loose object)
// ---------------------------------------------------------------------------------------------

const isPlainObject = (v) => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

// The common shapes, checked and rebuilt in the schema's key order without zod. Returns null when
// the result needs the full schema.
function fastNormalise(result) {
  if (!isPlainObject(result)) return null;
  const { _meta, content, structuredContent, isError } = result;
  if (_meta !== undefined && (!isPlainObject(_meta) || 'progressToken' in _meta || 'io.modelcontextprotocol/related-task' in _meta)) {
    return null;
  }
  if (content !== undefined) {
    if (!Array.isArray(content)) return null;
    for (const item of content) {
      if (!isPlainObject(item) || item.type !== 'text' || typeof item.text !== 'string') return null;
      const keys = Object.keys(item);
      if (keys.length !== 2) return null;
    }
  }
  if (structuredContent !== undefined && !isPlainObject(structuredContent)) return null;
  if (isError !== undefined && typeof isError !== 'boolean') return null;
  const out = {};
  if ('_meta' in result) out._meta = _meta;
  out.content = content === undefined ? [] : content.map((item) => ({ type: 'text', text: item.text }));
  if ('structuredContent' in result) out.structuredContent = structuredContent === undefined ? undefined : { ...structuredContent };
  if ('isError' in result) out.isError = isError;
  for (const key of Object.keys(result)) {
    if (key !== '_meta' && key !== 'content' && key !== 'structuredContent' && key !== 'isError') out[key] = result[key];
  }
  return out;
}

let resultSchemaLoading = null;

function callToolResultSchema() {
  if (!resultSchemaLoading) {
    resultSchemaLoading = importPackage(projectRoot, 'zod', 'v4').then(buildResultSchema, () => null);
  }
  return resultSchemaLoading;
}

function buildResultSchema({ z }) {
  const meta = () => z.record(z.string(), z.unknown());
  const annotations = z.object({
    audience: z.array(z.enum(['user', 'assistant'])).optional(),
    priority: z.number().min(0).max(1).optional(),
    lastModified: z.iso.datetime({ offset: true }).optional(),
  });
  const base64 = z.string().refine(
    (value) => {
      try {
        atob(value);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'Invalid Base64 string' },
  );
  const media = (type) =>
    z.object({
      type: z.literal(type),
      data: base64,
      mimeType: z.string(),
      annotations: annotations.optional(),
      _meta: meta().optional(),
    });
  const icon = z.object({
    src: z.string(),
    mimeType: z.string().optional(),
    sizes: z.array(z.string()).optional(),
    theme: z.enum(['light', 'dark']).optional(),
  });
  const resourceContents = {
    uri: z.string(),
    mimeType: z.optional(z.string()),
    _meta: meta().optional(),
  };
  const contentBlock = z.union([
    z.object({ type: z.literal('text'), text: z.string(), annotations: annotations.optional(), _meta: meta().optional() }),
    media('image'),
    media('audio'),
    z.object({
      name: z.string(),
      title: z.string().optional(),
      icons: z.array(icon).optional(),
      uri: z.string(),
      description: z.optional(z.string()),
      mimeType: z.optional(z.string()),
      size: z.optional(z.number()),
      annotations: annotations.optional(),
      _meta: z.optional(z.looseObject({})),
      type: z.literal('resource_link'),
    }),
    z.object({
      type: z.literal('resource'),
      resource: z.union([
        z.object({ ...resourceContents, text: z.string() }),
        z.object({ ...resourceContents, blob: base64 }),
      ]),
      annotations: annotations.optional(),
      _meta: meta().optional(),
    }),
  ]);
  const requestMeta = z.looseObject({
    progressToken: z.union([z.string(), z.number().int()]).optional(),
    'io.modelcontextprotocol/related-task': z.object({ taskId: z.string() }).optional(),
  });
  return z.looseObject({
    _meta: requestMeta.optional(),
    content: z.array(contentBlock).default([]),
    structuredContent: z.record(z.string(), z.unknown()).optional(),
    isError: z.boolean().optional(),
  });
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

// Without zod in the project: the top-level check with zod's wording, then the result as is.
function structuralNormalise(result) {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    const issues = [
      { expected: 'object', code: 'invalid_type', path: [], message: `Invalid input: expected object, received ${typeName(result)}` },
    ];
    return { ok: false, message: JSON.stringify(issues, null, 2) };
  }
  return { ok: true, value: 'content' in result ? result : { content: [], ...result } };
}

async function normaliseResult(result) {
  const fast = fastNormalise(result);
  if (fast) return { ok: true, value: fast };
  const schema = await callToolResultSchema();
  if (!schema) return structuralNormalise(result);
  const parsed = schema.safeParse(result);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, message: parsed.error instanceof Error ? parsed.error.message : String(parsed.error) };
}

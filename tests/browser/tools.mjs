#!/usr/bin/env node
// Imports every built tool module of a sunpeak project under Node, the way `sunpeak start`
// loads them, and calls each tool's default handler with sample arguments, to get the real
// CallToolResult that a host would pass to the tool's resource.
//
//   node tools.mjs PROJECT_DIR       prints JSON: {tools: [...], server: {...} | null}
//
// Per tool (sorted by file name): {name, file, exports (sorted), resource (tool.resource or
// null), args, argsSource ('simulation' | 'simulation+generated' |
// 'generated' | 'none'), result, error}.
// Arguments: the `toolInput` of PROJECT_DIR/tests/simulations/<name>.json when it exists (the
// template ships one per UI tool), else generated from the tool's Zod `schema`; either way
// they are validated against the schema first, as the MCP SDK does (unknown keys dropped).
// `result` is normalized like the SDK: a string becomes a text content block, a missing
// `content` becomes []. `error` is set when the import, the argument check or the handler
// failed. Exit code 0 when the report was written (the caller judges errors), 2 otherwise.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const project = resolve(process.argv[2] || '.');

/** A sample value for a Zod (v4) type, from its definition. */
function sample(type, depth = 0) {
  const def = type?._zod?.def ?? type?._def;
  if (!def || depth > 8) return null;
  switch (def.type ?? def.typeName) {
    case 'string':
      return 'sample';
    case 'number':
    case 'int':
    case 'bigint':
      return 1;
    case 'boolean':
      return true;
    case 'date':
      return new Date(0).toISOString();
    case 'literal':
      return (def.values ?? [def.value])[0];
    case 'enum':
      return Object.values(def.entries ?? {})[0] ?? (def.values ?? [])[0];
    case 'array':
      return [sample(def.element ?? def.type, depth + 1)];
    case 'object':
      return sampleShape(typeof def.shape === 'function' ? def.shape() : def.shape, depth + 1);
    case 'record':
      return {};
    case 'union':
      return sample(def.options?.[0], depth + 1);
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return sample(def.innerType, depth + 1);
    case 'pipe':
      return sample(def.in, depth + 1);
    default:
      return null;
  }
}

function sampleShape(shape, depth = 0) {
  const out = {};
  for (const [key, type] of Object.entries(shape ?? {})) out[key] = sample(type, depth);
  return out;
}

/** Validates args against a raw shape (or a Zod object) like the SDK's z.object(shape).parse. */
function validate(schema, args) {
  if (!schema) return { ok: true, value: {} }; // the SDK passes {} without a schema
  if (typeof schema.safeParse === 'function') {
    const r = schema.safeParse(args);
    return r.success ? { ok: true, value: r.data } : { ok: false, issues: r.error.issues };
  }
  const value = {};
  const issues = [];
  for (const [key, type] of Object.entries(schema)) {
    const r = type.safeParse(args?.[key]);
    if (r.success) {
      if (r.data !== undefined) value[key] = r.data;
    } else {
      issues.push({ key, issues: r.error.issues });
    }
  }
  return issues.length ? { ok: false, issues } : { ok: true, value };
}

function normalize(result) {
  if (typeof result === 'string') return { content: [{ type: 'text', text: result }] };
  if (result === null || typeof result !== 'object') {
    throw new Error(`handler returned ${result === null ? 'null' : typeof result}, not an object`);
  }
  return result.content === undefined ? { content: [], ...result } : result;
}

function extra(name) {
  return {
    signal: new AbortController().signal,
    authInfo: undefined,
    sessionId: 'e2e-session',
    _meta: {},
    requestId: 1,
    requestInfo: { headers: {}, url: new URL(`http://localhost/mcp?tool=${name}`) },
    sendNotification: async () => {},
    sendRequest: async () => {
      throw new Error('sendRequest is not available in the e2e harness');
    },
  };
}

async function loadTool(dir, file) {
  const name = file.slice(0, -'.js'.length);
  const entry = {
    name,
    file: `tools/${file}`,
    exports: [],
    resource: null,
    args: null,
    argsSource: 'none',
    result: null,
    error: null,
  };
  let mod;
  try {
    mod = await import(pathToFileURL(join(dir, file)).href);
  } catch (e) {
    entry.error = `import failed: ${e && e.stack ? e.stack : e}`;
    return entry;
  }
  entry.exports = Object.keys(mod).sort();
  entry.resource = mod.tool?.resource ?? null;
  if (typeof mod.default !== 'function') {
    entry.error = 'no default handler export';
    return entry;
  }
  const simulation = join(project, 'tests', 'simulations', `${name}.json`);
  let args;
  if (existsSync(simulation)) {
    args = JSON.parse(readFileSync(simulation, 'utf8')).toolInput ?? {};
    entry.argsSource = 'simulation';
  } else {
    const shape = mod.schema?._zod?.def?.shape ?? mod.schema;
    args = mod.schema ? sampleShape(shape) : {};
    entry.argsSource = 'generated';
  }
  let checked = validate(mod.schema, args);
  if (!checked.ok && entry.argsSource === 'simulation' && mod.schema && !mod.schema.safeParse) {
    // A simulation may omit required fields (review-post has no scheduledTime): fill in just
    // the fields that fail with generated samples.
    const patched = { ...args };
    for (const { key } of checked.issues) patched[key] = sample(mod.schema[key]);
    checked = validate(mod.schema, patched);
    args = patched;
    entry.argsSource = 'simulation+generated';
  }
  if (!checked.ok) {
    entry.args = args;
    entry.error = `sample arguments do not match the schema: ${JSON.stringify(checked.issues)}`;
    return entry;
  }
  entry.args = checked.value;
  try {
    entry.result = normalize(await mod.default(checked.value, extra(name)));
  } catch (e) {
    entry.error = `handler failed: ${e && e.stack ? e.stack : e}`;
  }
  return entry;
}

async function main() {
  const dir = join(project, 'dist', 'tools');
  const files = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.js')).sort()
    : [];
  const tools = [];
  for (const file of files) tools.push(await loadTool(dir, file));
  let server = null;
  const serverFile = join(project, 'dist', 'server.js');
  if (existsSync(serverFile)) {
    try {
      server = { exports: Object.keys(await import(pathToFileURL(serverFile).href)).sort(), error: null };
    } catch (e) {
      server = { exports: [], error: `import failed: ${e && e.stack ? e.stack : e}` };
    }
  }
  process.stdout.write(JSON.stringify({ tools, server }, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`tools.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

// The Node.js side of `sunpeak build`: the work that has no Rust implementation.
//
//   - "tailwind": compile one CSS file with the project's own Tailwind v4 (@tailwindcss/node and
//     @tailwindcss/oxide), the way @tailwindcss/vite does in a production build.
//   - "eval": import a bundled ES module and return JSON.stringify(module.resource).
//
// Protocol: one JSON request per line on stdin; one response per request on stdout, on a line
// that starts with "\u0000sunpeak\u0000" (anything else a user module prints is ignored). The
// Rust side sends one request at a time.
import { createRequire } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import readline from 'node:readline';

const MARK = '\u0000sunpeak\u0000';
const out = process.stdout.write.bind(process.stdout);
// Keep user output off the protocol stream.
console.log = console.info = console.debug = console.warn;

class Missing extends Error {
  constructor(pkg) {
    super(`Cannot find package "${pkg}"`);
    this.missing = pkg;
  }
}

// Resolves `name` from the project, then through packages that depend on it (for non-hoisted
// layouts such as pnpm's), and imports it.
async function load(root, name) {
  const bases = [path.join(root, 'package.json')];
  for (const via of ['@tailwindcss/vite', '@tailwindcss/postcss', '@tailwindcss/cli', '@tailwindcss/node']) {
    for (let dir = root; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', via, 'package.json');
      if (existsSync(candidate)) {
        bases.push(realpathSync(candidate));
        break;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  for (const base of bases) {
    let resolved;
    try {
      resolved = createRequire(base).resolve(name);
    } catch {
      continue;
    }
    const mjs = resolved.replace(/\.js$/, '.mjs');
    return import(pathToFileURL(existsSync(mjs) ? mjs : resolved).href);
  }
  throw new Missing(name);
}

const tailwindCache = new Map();

async function tailwind({ root, file, css }) {
  const key = file + '\u0000' + css;
  if (tailwindCache.has(key)) return tailwindCache.get(key);
  const { compile, Features, optimize } = await load(root, '@tailwindcss/node');
  const compiler = await compile(css, {
    base: path.dirname(file),
    shouldRewriteUrls: true,
    onDependency: () => {},
  });
  const wanted =
    Features.AtApply | Features.JsPluginCompat | Features.ThemeFunction | Features.Utilities | Features.Variants;
  let result = { changed: false };
  if (compiler.features & wanted) {
    let candidates = [];
    if (compiler.features & Features.Utilities) {
      const { Scanner } = await load(root, '@tailwindcss/oxide');
      const sources = (
        compiler.root === 'none'
          ? []
          : compiler.root === null
            ? [{ base: root, pattern: '**/*', negated: false }]
            : [{ ...compiler.root, negated: false }]
      ).concat(compiler.sources);
      candidates = new Scanner({ sources }).scan();
    }
    const code = optimize(compiler.build(candidates), { minify: true }).code;
    result = { changed: true, css: code };
  }
  tailwindCache.set(key, result);
  return result;
}

async function evaluate({ file }) {
  const mod = await import(pathToFileURL(file).href);
  const json = JSON.stringify(mod.resource);
  return { json: mod.resource ? (json ?? null) : null };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let response;
  try {
    const request = JSON.parse(line);
    const result = request.op === 'tailwind' ? await tailwind(request) : await evaluate(request);
    response = { ok: true, ...result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    response = { ok: false, error: `${e.name}: ${e.message}`, missing: e.missing ?? null };
  }
  out(MARK + JSON.stringify(response) + '\n');
}

#!/usr/bin/env node
// Renders built MCP App resources (self-contained HTML) inside host.html, a minimal MCP Apps
// host, in headless Chromium, and prints what rendered as JSON on stdout.
//
//   node render.mjs --html FILE [--input JSON] [--result JSON] [--tool JSON] [--screenshot PNG]
//   node render.mjs --jobs FILE        FILE = JSON array of {html, toolInput, toolResult,
//                                      tool?, screenshot?, label?}; prints a JSON array
//   node render.mjs --diff A.png B.png prints {sameSize, sizeA, sizeB, differentPixels}
//
// JSON arguments may be inline JSON or @path to a JSON file.
//
// Output per job: {label, html, text, elementCount, pageErrors, consoleErrors, failedRequests,
// hostReceived, initialized, toolResultSent, timedOut, screenshot}. `text` is the iframe body's
// innerText once it has stopped changing. Exit code 0 when every job ran (even if it had page
// errors: the caller judges), 2 on bad usage or a harness failure.
//
// Environment:
//   CHROMIUM_PATH              browser binary (default /usr/bin/chromium)
//   SUNPEAK_HARNESS_MODULES    a node_modules dir holding playwright-core (see install.sh);
//                              without it, playwright-core is imported normally
//   RENDER_SETTLE_MS           how long the text must stay unchanged (default 1000)
//   RENDER_TIMEOUT_MS          per-job limit for the handshake and settling (default 20000)

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ORIGIN = 'http://mcp-host.test';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SETTLE_MS = Number(process.env.RENDER_SETTLE_MS || 1000);
const TIMEOUT_MS = Number(process.env.RENDER_TIMEOUT_MS || 20000);
const POLL_MS = 100;

async function loadPlaywright() {
  const dir = process.env.SUNPEAK_HARNESS_MODULES;
  if (dir) {
    const require = createRequire(join(resolve(dir), 'noop.js'));
    return require('playwright-core');
  }
  return import('playwright-core');
}

async function launch() {
  const { chromium } = await loadPlaywright();
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS, // playwright adds a fresh temporary --user-data-dir itself
  });
}

function readJsonArg(value, what) {
  if (value === undefined) return undefined;
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: not valid JSON (${e.message})`);
  }
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) {
      throw new Error(`unexpected argument ${JSON.stringify(flag)}`);
    }
    opts[flag.slice(2)] = value;
    i++;
  }
  if (opts.jobs) return readJsonArg('@' + opts.jobs, '--jobs');
  if (!opts.html) throw new Error('need --html FILE or --jobs FILE');
  return [
    {
      html: opts.html,
      toolInput: readJsonArg(opts.input, '--input') ?? {},
      toolResult: readJsonArg(opts.result, '--result') ?? { content: [] },
      tool: readJsonArg(opts.tool, '--tool'),
      screenshot: opts.screenshot,
    },
  ];
}

async function renderJob(browser, job) {
  const html = readFileSync(job.html);
  const hostPage = readFileSync(join(HERE, 'host.html'));
  const scenario = JSON.stringify({
    toolInput: job.toolInput ?? {},
    toolResult: job.toolResult ?? { content: [] },
    tool: job.tool,
  });
  const out = {
    label: job.label ?? job.html,
    html: job.html,
    text: null,
    elementCount: null,
    pageErrors: [],
    consoleErrors: [],
    failedRequests: [],
    hostReceived: [],
    initialized: false,
    toolResultSent: false,
    timedOut: false,
    screenshot: null,
  };
  const context = await browser.newContext({
    viewport: { width: 800, height: 600 },
    locale: 'en-US',
    timezoneId: 'UTC',
    colorScheme: 'light',
    reducedMotion: 'reduce',
  });
  try {
    const page = await context.newPage();
    page.on('pageerror', (err) => out.pageErrors.push(String(err && err.stack ? err.stack : err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') out.consoleErrors.push(msg.text());
    });
    // The network is closed in CI: answer our own three URLs and fail everything else at once
    // (CDN images, the mapbox style API), the same way for every build under comparison.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      const body = (content, type) => route.fulfill({ status: 200, contentType: type, body: content });
      if (url === `${ORIGIN}/`) return body(hostPage, 'text/html; charset=utf-8');
      if (url === `${ORIGIN}/resource.html`) return body(html, 'text/html; charset=utf-8');
      if (url === `${ORIGIN}/scenario.json`) return body(scenario, 'application/json');
      out.failedRequests.push(url);
      return route.abort('internetdisconnected');
    });
    await page.goto(`${ORIGIN}/`, { waitUntil: 'load', timeout: TIMEOUT_MS });

    const deadline = Date.now() + TIMEOUT_MS;
    const hostState = () => page.evaluate(() => window.__host || {});
    let state = await hostState();
    while (!state.toolResultSent && Date.now() < deadline) {
      await page.waitForTimeout(POLL_MS);
      state = await hostState();
    }
    const frame = page.frame({ url: `${ORIGIN}/resource.html` });
    if (!frame) throw new Error('the resource iframe did not load');

    // Settle: the rendered text must stay the same for SETTLE_MS.
    const snapshot = () =>
      frame.evaluate(() => ({
        text: document.body ? document.body.innerText : '',
        elementCount: document.getElementsByTagName('*').length,
      }));
    let last = await snapshot();
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      await page.waitForTimeout(POLL_MS);
      const now = await snapshot();
      if (now.text !== last.text || now.elementCount !== last.elementCount) {
        last = now;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= SETTLE_MS) {
        break;
      }
    }
    out.timedOut = !state.toolResultSent || Date.now() >= deadline;
    out.text = last.text;
    out.elementCount = last.elementCount;
    state = await hostState();
    out.hostReceived = state.received || [];
    out.initialized = !!state.initialized;
    out.toolResultSent = !!state.toolResultSent;
    for (const e of state.errors || []) out.pageErrors.push(`host: ${e}`);
    if (job.screenshot) {
      await page.screenshot({ path: job.screenshot, fullPage: true, animations: 'disabled' });
      out.screenshot = job.screenshot;
    }
  } finally {
    await context.close();
  }
  return out;
}

/** Compares two PNG screenshots pixel by pixel in the browser (no image library needed). */
async function diffImages(browser, a, b) {
  const page = await browser.newPage();
  try {
    const url = (file) => 'data:image/png;base64,' + readFileSync(file).toString('base64');
    return await page.evaluate(
      async ([srcA, srcB]) => {
        const load = (src) =>
          new Promise((ok, err) => {
            const img = new Image();
            img.onload = () => ok(img);
            img.onerror = () => err(new Error('cannot decode screenshot'));
            img.src = src;
          });
        const pixels = (img) => {
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const ctx = canvas.getContext('2d');
          ctx.drawImage(img, 0, 0);
          return ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        };
        const [imgA, imgB] = await Promise.all([load(srcA), load(srcB)]);
        const size = (img) => [img.naturalWidth, img.naturalHeight];
        if (imgA.naturalWidth !== imgB.naturalWidth || imgA.naturalHeight !== imgB.naturalHeight) {
          return { sameSize: false, sizeA: size(imgA), sizeB: size(imgB), differentPixels: null };
        }
        const [pa, pb] = [pixels(imgA), pixels(imgB)];
        let differentPixels = 0;
        for (let i = 0; i < pa.length; i += 4) {
          if (pa[i] !== pb[i] || pa[i + 1] !== pb[i + 1] || pa[i + 2] !== pb[i + 2] || pa[i + 3] !== pb[i + 3]) {
            differentPixels++;
          }
        }
        return { sameSize: true, sizeA: size(imgA), sizeB: size(imgB), differentPixels };
      },
      [url(a), url(b)],
    );
  } finally {
    await page.close();
  }
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--diff') {
    if (argv.length !== 3) {
      process.stderr.write('render.mjs: usage: --diff A.png B.png\n');
      process.exit(2);
    }
    const browser = await launch();
    try {
      process.stdout.write(JSON.stringify(await diffImages(browser, argv[1], argv[2])) + '\n');
    } finally {
      await browser.close();
    }
    return;
  }
  let jobs;
  try {
    jobs = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`render.mjs: ${e.message}\n`);
    process.exit(2);
  }
  const browser = await launch();
  const results = [];
  try {
    for (const job of jobs) results.push(await renderJob(browser, job));
  } finally {
    await browser.close();
  }
  const single = !process.argv.includes('--jobs');
  const text = JSON.stringify(single ? results[0] : results, null, 2) + '\n';
  if (process.env.RENDER_OUTPUT) writeFileSync(process.env.RENDER_OUTPUT, text);
  else process.stdout.write(text);
}

main().catch((e) => {
  process.stderr.write(`render.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

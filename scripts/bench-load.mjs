#!/usr/bin/env node
// Page-load benchmark in Chromium (Playwright + the Chrome DevTools Protocol): bytes on the wire
// for a cold load (empty cache) and a warm load (same browser, cache filled) of the dashboard and
// of the PKS Plan 1 form, and the time to interactive (navigation start until the page has
// hydrated: its `data-hydrated` marker, set by an effect, which only runs once the wasm took
// over), unthrottled and at 10 Mbit/s, 40 ms latency and 4x CPU slowdown. Results go into
// BENCHMARKS.md ("Page loads").
//
// Each time to interactive is given twice: by the page's own clock (`performance.now()` when the
// marker appears, which counts from the navigation's start) and, in brackets, by this script's
// clock from before `page.goto` until Playwright has seen the marker — which adds the tear-down
// of the previous page, the CDP round trips and the selector's polling (≈ 100-150 ms throttled).
// Up to 2026-12-07 BENCHMARKS.md recorded the bracketed figure only. Since 2026-12-08 the script
// waits for the marker with a promise the page resolves (Playwright's waitForSelector polled the
// document from the page's main thread, the thread being measured).
//
// Usage: node scripts/bench-load.mjs   (after scripts/build-site.sh release into SITE_ROOT)
// Environment: TILEWORKS_BIN (target/debug/tileworks), SITE_ROOT (target/site-release),
// RUNS (3, the median is printed), PHASES=1 (also print, on stderr, each throttled cold load's
// timeline in ms from navigation start: the HTML received, the main wasm and the last wasm
// received, when each wasm instantiation started and ended, and when the page hydrated).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const bin = process.env.TILEWORKS_BIN ?? path.join(root, 'target', 'debug', 'tileworks');
const site = process.env.SITE_ROOT ?? path.join(root, 'target', 'site-release');
const runs = Number(process.env.RUNS ?? 3);
const password = 'bench-admin-password';
const dataDir = mkdtempSync(path.join(tmpdir(), 'tileworks-bench-load-'));

const server = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
  env: { ...process.env, TILEWORKS_ADMIN_PASSWORD: password, TILEWORKS_SITE_ROOT: site, RUST_LOG: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stop = () => {
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', stop);

const base = await new Promise((resolve, reject) => {
  let seen = '';
  server.stdout.on('data', (chunk) => {
    seen += chunk;
    const m = seen.match(/listening on (http\S+)/);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
});

// Stage PKS through the API (password grant, as om does).
const tokenResponse = await fetch(`${base}/uaa/oauth/token`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from('opsman:').toString('base64')}` },
  body: new URLSearchParams({ grant_type: 'password', username: 'admin', password }),
});
const { access_token: token } = await tokenResponse.json();
const staged = await (
  await fetch(`${base}/api/v0/staged/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'pivotal-container-service', product_version: 'latest' }),
  })
).json();

const pages = [
  { name: 'dashboard', url: '/', ready: '.dashboard-layout[data-hydrated="true"]' },
  {
    name: 'PKS Plan 1 form',
    url: `/products/${staged.guid}/settings?form=plan1`,
    ready: 'form.settings-form[data-hydrated="true"]',
  },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Signed in once; each measurement starts a fresh context (an empty cache) with that cookie.
const login = await browser.newContext({ baseURL: base });
const loginPage = await login.newPage();
await loginPage.goto('/login');
await loginPage.fill('#username', 'admin');
await loginPage.fill('#password', password);
await loginPage.click('button[type=submit]');
await loginPage.waitForURL(`${base}/`);
const storageState = await login.storageState();
await login.close();

async function load(page, cdp, url, ready) {
  let bytes = 0;
  // The wasm modules among them (the main module and the lazy pages' modules), by URL.
  let wasmBytes = 0;
  let wasmFiles = 0;
  const urls = new Map();
  const onResponse = (e) => urls.set(e.requestId, e.response.url);
  const onFinished = (e) => {
    bytes += e.encodedDataLength;
    if (/\.wasm$/.test(new URL(urls.get(e.requestId) ?? 'http://x/').pathname)) {
      wasmBytes += e.encodedDataLength;
      wasmFiles += 1;
    }
  };
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  const started = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  // A promise the page resolves itself: Playwright's waitForSelector would poll the document
  // with its own script on the page's main thread, the very thread being measured.
  const pageInteractive = await page.evaluate(
    (selector) =>
      new Promise((resolve) => {
        const check = () => document.querySelector(selector) && resolve(window.__phases.hydrated);
        window.__phases.onHydrated = check;
        check();
      }),
    ready,
  );
  const interactive = Date.now() - started;
  await page.waitForLoadState('networkidle');
  cdp.off('Network.loadingFinished', onFinished);
  cdp.off('Network.responseReceived', onResponse);
  return { bytes, interactive, pageInteractive, wasmBytes, wasmFiles };
}

const phases = process.env.PHASES === '1';

// In the page, before its scripts: note when each wasm instantiation starts and ends, and when
// the hydrated marker appears.
function recordPhases() {
  window.__phases = { wasm: [] };
  const instantiate = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = function (...args) {
    const started = Math.round(performance.now());
    const result = instantiate.apply(this, args);
    result.then(() => window.__phases.wasm.push([started, Math.round(performance.now())]));
    return result;
  };
  // Only the marker's attribute is watched (it is set by an effect once the wasm took over), so
  // the observer costs the page next to nothing while it parses and hydrates.
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-hydrated="true"]')) {
      window.__phases.hydrated = Math.round(performance.now());
      observer.disconnect();
      window.__phases.onHydrated?.();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
}

function readPhases() {
  const navigation = performance.getEntriesByType('navigation')[0];
  const wasm = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.wasm'));
  return {
    html: Math.round(navigation.responseEnd),
    mainWasm: Math.round(wasm.find((r) => r.name.endsWith('_bg.wasm'))?.responseEnd ?? 0),
    lastWasm: Math.round(Math.max(...wasm.map((r) => r.responseEnd))),
    parsed: Math.round(navigation.domInteractive),
    instantiations: window.__phases.wasm.map(([a, b]) => `${a}-${b}`).join(' '),
    hydrated: window.__phases.hydrated,
  };
}

async function measure(target, throttled) {
  const context = await browser.newContext({ baseURL: base, storageState });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (throttled) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 40,
      downloadThroughput: (10 * 1024 * 1024) / 8,
      uploadThroughput: (10 * 1024 * 1024) / 8,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  await page.addInitScript(recordPhases);
  const cold = await load(page, cdp, target.url, target.ready);
  if (phases && throttled) console.error(target.name, JSON.stringify(await page.evaluate(readPhases)));
  const warm = await load(page, cdp, target.url, target.ready);
  await context.close();
  return { cold, warm };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`site ${site}, server ${bin}, ${runs} runs each (median)`);
console.log('| page | cold bytes | of which wasm (files) | warm bytes | TTI cold, unthrottled | TTI warm, unthrottled | TTI cold, 10 Mbit/s 40 ms 4x CPU | TTI warm, throttled |');
console.log('|---|---|---|---|---|---|---|---|');
for (const target of pages) {
  const plain = [];
  const slow = [];
  for (let i = 0; i < runs; i++) {
    plain.push(await measure(target, false));
    slow.push(await measure(target, true));
  }
  const m = (list, f) => median(list.map(f));
  // The page's clock, then this script's.
  const tti = (list, f) => `${m(list, (r) => f(r).pageInteractive)} ms (${m(list, (r) => f(r).interactive)})`;
  console.log(
    `| ${target.name} | ${m(plain, (r) => r.cold.bytes)} | ` +
      `${m(plain, (r) => r.cold.wasmBytes)} (${m(plain, (r) => r.cold.wasmFiles)}) | ` +
      `${m(plain, (r) => r.warm.bytes)} | ` +
      `${tti(plain, (r) => r.cold)} | ${tti(plain, (r) => r.warm)} | ` +
      `${tti(slow, (r) => r.cold)} | ${tti(slow, (r) => r.warm)} |`,
  );
}
await browser.close();
stop();
process.exit(0);

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
// clock from before `page.goto` until it has heard of the marker — which adds the tear-down of
// the previous page and the CDP round trips. Up to 2026-12-07 BENCHMARKS.md recorded the
// bracketed figure only, which then also included Playwright's polling for the selector (since
// 2026-12-08 the page resolves a promise itself: the polling ran on the very thread measured).
//
// Two builds are compared with bench-load-ab.mjs: on a shared 2-core machine the same build's
// throttled loads vary by ±20 % from one minute to the next, more than most single changes.
//
// Usage: node scripts/bench-load.mjs   (after scripts/build-site.sh release into SITE_ROOT)
// Environment: TILEWORKS_BIN (target/debug/tileworks), SITE_ROOT (target/site-release),
// RUNS (3, the median is printed), PHASES=1 (also print, on stderr, each throttled cold load's
// timeline in ms from navigation start: the HTML received, the main wasm and the last wasm
// received, when each wasm instantiation started and ended, and when the page hydrated).
import path from 'node:path';
import {
  hydratedAt, launchBrowser, median, pages as pagesOf, recordPhases, root, signIn, startServer,
  throttle,
} from './page-load.mjs';

const bin = process.env.TILEWORKS_BIN ?? path.join(root, 'target', 'debug', 'tileworks');
const site = process.env.SITE_ROOT ?? path.join(root, 'target', 'site-release');
const runs = Number(process.env.RUNS ?? 3);

const { base, guid, stop } = await startServer(bin, site);
const pages = pagesOf(guid);
const browser = await launchBrowser();
const storageState = await signIn(browser, base);

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
  const pageInteractive = await hydratedAt(page, ready);
  const interactive = Date.now() - started;
  await page.waitForLoadState('networkidle');
  cdp.off('Network.loadingFinished', onFinished);
  cdp.off('Network.responseReceived', onResponse);
  return { bytes, interactive, pageInteractive, wasmBytes, wasmFiles };
}

const phases = process.env.PHASES === '1';

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
  if (throttled) await throttle(cdp);
  await page.addInitScript(recordPhases);
  const cold = await load(page, cdp, target.url, target.ready);
  if (phases && throttled) console.error(target.name, JSON.stringify(await page.evaluate(readPhases)));
  const warm = await load(page, cdp, target.url, target.ready);
  await context.close();
  return { cold, warm };
}

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

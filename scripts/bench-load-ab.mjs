#!/usr/bin/env node
// A/B page-load benchmark: the throttled cold time to interactive (10 Mbit/s, 40 ms, 4x CPU;
// page clock, navigation start to the hydrated marker, as in bench-load.mjs) of one page on two
// builds, each a server binary with its site folder, loads alternating A B, B A, A B, … in one
// browser. On a shared machine the speed drifts from minute to minute by more than most single
// changes are worth; pairs of loads seconds apart see the same machine, so the median of the
// pairs' differences says which build is faster where two separate runs of bench-load.mjs
// cannot.
//
// Usage: A_BIN=… A_SITE=… B_BIN=… B_SITE=… node scripts/bench-load-ab.mjs
// Environment: RUNS (pairs, 16), PAGE (`form`, the PKS Plan 1 form, or `dashboard`).
import { hydratedAt, launchBrowser, median, pages, recordPhases, signIn, startServer, throttle }
  from './page-load.mjs';

const runs = Number(process.env.RUNS ?? 16);
const which = process.env.PAGE ?? 'form';
for (const v of ['A_BIN', 'A_SITE', 'B_BIN', 'B_SITE']) {
  if (!process.env[v]) throw new Error(`${v} is not set (usage in the script's header)`);
}

const browser = await launchBrowser();
async function build(bin, site) {
  const server = await startServer(bin, site);
  const page = pages(server.guid).find((p) => (which === 'form' ? p.url !== '/' : p.url === '/'));
  return { ...server, page, storageState: await signIn(browser, server.base) };
}

async function coldLoad(build) {
  const context = await browser.newContext({ baseURL: build.base, storageState: build.storageState });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await throttle(cdp);
  await page.addInitScript(recordPhases);
  await page.goto(build.page.url, { waitUntil: 'commit' });
  const at = await hydratedAt(page, build.page.ready);
  await context.close();
  return at;
}

const a = await build(process.env.A_BIN, process.env.A_SITE);
const b = await build(process.env.B_BIN, process.env.B_SITE);
// One load each first: the browser's own first-use costs are in neither series.
await coldLoad(a);
await coldLoad(b);
const times = { a: [], b: [] };
const differences = [];
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? [a, b] : [b, a];
  const got = new Map();
  for (const build of order) got.set(build, await coldLoad(build));
  times.a.push(got.get(a));
  times.b.push(got.get(b));
  differences.push(got.get(b) - got.get(a));
}
console.log(`${a.page.name}, throttled cold load, ${runs} pairs (page clock, ms)`);
console.log(`A ${process.env.A_BIN} ${process.env.A_SITE}: median ${median(times.a)}  [${times.a.join(' ')}]`);
console.log(`B ${process.env.B_BIN} ${process.env.B_SITE}: median ${median(times.b)}  [${times.b.join(' ')}]`);
console.log(`B - A: median ${median(differences)} ms; B faster in ${differences.filter((d) => d < 0).length} of ${runs} pairs`);
await browser.close();
a.stop();
b.stop();
process.exit(0);

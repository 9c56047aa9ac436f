// What the page-load benchmarks share (bench-load.mjs, bench-load-ab.mjs): a Tileworks server
// with PKS staged, Debian's Chromium signed in to it, the two pages measured, the throttling of
// the "slow" loads and the page-side timing of the hydrated marker.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const password = 'bench-admin-password';

// Starts `bin` serving `site` on a free port with a data folder of its own, stages PKS through
// the API (password grant, as om does) and returns `{ base, guid, stop }`.
export async function startServer(bin, site) {
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
  return { base, guid: staged.guid, stop };
}

// The pages measured, each with the selector of its hydrated marker.
export function pages(guid) {
  return [
    { name: 'dashboard', url: '/', ready: '.dashboard-layout[data-hydrated="true"]' },
    {
      name: 'PKS Plan 1 form',
      url: `/products/${guid}/settings?form=plan1`,
      ready: 'form.settings-form[data-hydrated="true"]',
    },
  ];
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Signs in once through the login form; each measurement starts a fresh context (an empty
// cache) with the storage state this returns.
export async function signIn(browser, base) {
  const login = await browser.newContext({ baseURL: base });
  const page = await login.newPage();
  await page.goto('/login');
  await page.fill('#username', 'admin');
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  const storageState = await login.storageState();
  await login.close();
  return storageState;
}

// 10 Mbit/s, 40 ms latency and 4x CPU slowdown.
export async function throttle(cdp) {
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 40,
    downloadThroughput: (10 * 1024 * 1024) / 8,
    uploadThroughput: (10 * 1024 * 1024) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
}

// In the page, before its scripts (`page.addInitScript`): note when each wasm instantiation
// starts and ends, and when the hydrated marker appears.
export function recordPhases() {
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

// Waits until `ready` matches and returns the page's clock at the marker (ms from the
// navigation's start). A promise the page resolves itself: Playwright's waitForSelector would
// poll the document with its own script on the page's main thread, the very thread measured.
export function hydratedAt(page, ready) {
  return page.evaluate(
    (selector) =>
      new Promise((resolve) => {
        const check = () => document.querySelector(selector) && resolve(window.__phases.hydrated);
        window.__phases.onHydrated = check;
        check();
      }),
    ready,
  );
}

// The middle value (the mean of the two middle ones for an even count).
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

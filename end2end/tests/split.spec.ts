import { expect, Page, test } from '@playwright/test';
import { logIn, stagedWidgetTile, waitForHydration } from './helpers';

// The browser bundle is split per page group (issue 12, app/src/lib.rs `lazy_pages!`): the dashboard
// hydrates from the main wasm module alone, and a lazy page (here a tile's settings form)
// fetches its own modules — named in preload links the server adds, so they load alongside
// the main module — before it hydrates.

/// The lazy pages' modules (debug names `split_*.wasm`/`chunk_*.wasm`, release names
/// `tileworks.<hash>.split_*.wasm`/`….chunk_*.wasm`).
const SPLIT_MODULE = /\/pkg\/(?:tileworks\.[0-9a-f]+\.)?(?:split_|chunk_)\w*\.wasm$/;

function wasmRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.endsWith('.wasm')) seen.push(url.pathname);
  });
  return seen;
}

test('the dashboard hydrates without any lazy page module', async ({ page }) => {
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  const wasm = wasmRequests(page);
  await page.goto('/');
  await waitForHydration(page, '.dashboard-layout');
  expect(wasm.length, wasm.join(', ')).toBeGreaterThan(0);
  expect(wasm.filter((p) => SPLIT_MODULE.test(p)), wasm.join(', ')).toEqual([]);
});

test('a settings form preloads its own modules and hydrates', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  const wasm = wasmRequests(page);
  page.on('console', (m) => console.log('CONSOLE', m.type(), m.text().slice(0, 400)));
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message.slice(0, 400)));
  const response = await page.goto(`/products/${guid}/settings`);
  const html = await response!.text();
  // The `<link>`s of the head, whatever the order of their attributes.
  const links = [...html.matchAll(/<link\b[^>]*>/g)].map((m) => ({
    rel: m[0].match(/\brel="([^"]*)"/)?.[1],
    href: m[0].match(/\bhref="([^"]*)"/)?.[1] ?? '',
  }));
  const preloads = links
    .filter((l) => l.rel === 'preload' && SPLIT_MODULE.test(l.href))
    .map((l) => l.href);
  expect(preloads.length, html.slice(0, 2000)).toBeGreaterThan(0);
  expect(
    links.some((l) => l.rel === 'modulepreload' && /^\/pkg\/[^"]*(?:__wasm_split|\.split)\.js$/.test(l.href)),
    'the loader script is preloaded',
  ).toBe(true);
  await waitForHydration(page, 'form.settings-form');
  // Every preloaded module was fetched once: the loader's fetch used the preload (a preload
  // whose CORS or credentials mode differed from the fetch's would be fetched a second time).
  for (const href of preloads) expect(wasm.filter((p) => p === href), href).toHaveLength(1);
  expect(wasm.filter((p) => SPLIT_MODULE.test(p)).length).toBeGreaterThan(0);
});

test('going from the dashboard to a lazy page in the browser loads its modules then', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page, '.dashboard-layout');
  const wasm = wasmRequests(page);
  // A client-side navigation (the router's, not a page load): the page's modules are fetched
  // on the way, and the form hydrates as on a direct load.
  await page.evaluate((href) => {
    const a = document.createElement('a');
    a.href = href;
    document.body.appendChild(a);
    a.click();
  }, `/products/${guid}/settings`);
  await expect(page).toHaveURL(new RegExp(`/products/${guid}/settings$`));
  await waitForHydration(page, 'form.settings-form');
  expect(wasm.filter((p) => SPLIT_MODULE.test(p)).length, wasm.join(', ')).toBeGreaterThan(0);
  expect(wasm.filter((p) => !SPLIT_MODULE.test(p)), 'no second main module').toEqual([]);
});

/// Console errors and uncaught exceptions of a page: a hydration mismatch is a Rust panic,
/// which console_error_panic_hook logs as a console error ("panicked at …").
function panics(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /panicked|unreachable|RuntimeError/.test(m.text())) seen.push(m.text());
  });
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}

/// Proof that the page (not only the main module) is hydrated: the header sits inside every
/// page's view, after the lazy route's boundary, and its user menu opens on a click only once
/// hydration reached it.
async function headerMenuWorks(page: Page) {
  await expect(async () => {
    await page.locator('button.user-menu-button').click();
    await expect(page.getByRole('menuitem', { name: 'Account' })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

// A direct load (a full page load) of one page of each lazy group: the router waits for the
// group's modules (`LazyRoute::preload`) before it hydrates the page, so the page hydrates
// against the server's HTML instead of panicking on a mismatch.
const DIRECT: { name: string; path: (guid: string) => string; hydrated?: string }[] = [
  { name: 'a settings form (form group)', path: (g) => `/products/${g}/settings`, hydrated: 'form.settings-form' },
  { name: 'the Director (form group)', path: () => '/director', hydrated: 'main.director' },
  { name: 'a product credentials tab (product group)', path: (g) => `/products/${g}/credentials`, hydrated: 'main.product-credentials' },
  { name: 'Review (installation group)', path: () => '/review', hydrated: '.review-layout' },
  { name: 'the Change Log (installation group)', path: () => '/installations' },
  { name: 'Clusters (cluster group)', path: () => '/clusters', hydrated: 'main.clusters' },
  { name: 'Users (admin group)', path: () => '/users', hydrated: 'main.users' },
  { name: 'the TLS certificate settings page (admin group)', path: () => '/settings/ssl-certificate' },
  { name: 'the Stemcell Library (admin group)', path: () => '/stemcells', hydrated: 'main.stemcells' },
];

for (const { name, path, hydrated } of DIRECT) {
  test(`a direct load of ${name} hydrates`, async ({ page, request }) => {
    const guid = await stagedWidgetTile(request);
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    const errors = panics(page);
    const wasm = wasmRequests(page);
    await page.goto(path(guid));
    if (hydrated) await waitForHydration(page, hydrated);
    await headerMenuWorks(page);
    expect(wasm.filter((p) => SPLIT_MODULE.test(p)).length, wasm.join(', ')).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
}

test('client navigation between lazy groups after a direct load of a lazy page', async ({ page }) => {
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  const errors = panics(page);
  await page.goto('/users');
  await waitForHydration(page, 'main.users');
  // The header's links are the router's: no page load, the next group's modules are fetched.
  let loads = 0;
  page.on('load', () => loads++);
  await page.locator('nav.topnav a[href="/clusters"]').click();
  await expect(page).toHaveURL(/\/clusters$/);
  await waitForHydration(page, 'main.clusters');
  await page.locator('nav.topnav a[href="/review"]').click();
  await expect(page).toHaveURL(/\/review$/);
  await waitForHydration(page, '.review-layout');
  await page.locator('nav.topnav a[href="/"]').click();
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page, '.dashboard-layout');
  await page.locator('nav.topnav a[href="/stemcells"]').click();
  await expect(page).toHaveURL(/\/stemcells$/);
  await waitForHydration(page, 'main.stemcells');
  await headerMenuWorks(page);
  expect(loads, 'client-side navigations only').toBe(0);
  expect(errors).toEqual([]);
});

import { expect, request as playwrightRequest, test } from '@playwright/test';
import { api, apiToken, logIn, makePksDeployable, OwnTileworks, PKS, startOwnTileworks } from './helpers';

// Apply Changes in the browser: the bundled PKS tile made deployable through the Ops Manager API
// (as `om configure-director` / `configure-product` would; pks.spec.ts does the forms in the
// browser), applied, followed live on the progress page until it succeeds, found in the Change
// Log, and its VM watched on the Status tab while the Director stand-in's chaos endpoint kills
// it and the resurrector brings it back.
//
// A deployed product cannot be taken off the dashboard again (Apply Changes does not delete
// deployments yet), and the other specs expect the bundled PKS tile and the Director tile
// unconfigured on the shared server. So this spec runs its own Tileworks, with its own data dir
// and embedded Director, and a VM latency that makes the progress visible.

const PASSWORD = () => process.env.TILEWORKS_ADMIN_PASSWORD!;

let own: OwnTileworks | undefined;
let baseURL = '';

test.beforeAll(async () => {
  own = await startOwnTileworks('apply', ['--director-vm-create-ms', '400']);
  baseURL = own.baseURL;
});

test.afterAll(async () => {
  own?.stop();
});

test('Apply Changes: live progress, Change Log, and the Status tab through a VM failure', async ({ browser }) => {
  test.setTimeout(240_000);
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const request = page.request;
  const token = await apiToken(request);
  const guid = await makePksDeployable(request, token);
  await logIn(page, 'admin', PASSWORD());
  await expect(page).toHaveURL(/\/$/);

  // Not deployed yet: the Status tab says so, and the settings page links to it.
  await page.goto(`/products/${guid}/settings`);
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Status' }).click();
  await expect(page).toHaveURL(new RegExp(`/products/${guid}/status$`));
  await expect(page.getByText('Not deployed yet')).toBeVisible();

  // --- Review Pending Changes (the dashboard's button) → Apply Changes, as an operator does it.
  await page.locator('header.topbar').getByRole('link', { name: 'Installation Dashboard' }).click();
  await page.locator('main').getByRole('link', { name: 'Review Pending Changes' }).click();
  await expect(page.getByRole('heading', { name: 'Review Pending Changes', level: 1 })).toBeVisible();
  const review = page.locator(`[data-guid="${guid}"]`).first();
  await expect(review).toContainText('Pivotal Container Service');
  await expect(review.getByRole('checkbox')).toBeChecked();
  await page.getByRole('button', { name: 'Apply Changes' }).click();
  await expect(page).toHaveURL(/\/installations\/\d+$/);
  const id = Number(new URL(page.url()).pathname.split('/').pop());
  const main = page.locator('main.installation');
  const status = page.locator('section.install-status');
  const row = page.locator(`table.install-products tr[data-guid="${guid}"]`);
  await expect(row).toContainText('Pivotal Container Service');
  await expect(row).toContainText('Install');
  const renderedRunning = (await status.getAttribute('data-status')) === 'running';
  if (renderedRunning) {
    // Still running when the server rendered it: the browser follows the events stream and the
    // log grows under our eyes.
    await expect(main).toHaveAttribute('data-live', /true|done/);
    const before = Number(await page.locator('pre.install-log').getAttribute('data-lines'));
    await expect
      .poll(async () => Number(await page.locator('pre.install-log').getAttribute('data-lines')), { timeout: 60_000 })
      .toBeGreaterThan(before);
    await page.screenshot({ path: '/tmp/e2e-apply-running.png', fullPage: true });
  }
  await expect(status).toHaveAttribute('data-status', 'succeeded', { timeout: 120_000 });
  await expect(page.getByRole('status')).toHaveText('Changes applied');
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(row).toHaveAttribute('data-status', 'succeeded');
  await expect(page.locator('pre.install-log')).toContainText('Director task');
  await expect(page.locator('pre.install-log')).toContainText(`Installation ${id}`);
  if (renderedRunning) await expect(main).toHaveAttribute('data-live', 'done');
  // The BOSH Director has its own row, first: its cloud config went before the products.
  const directorRow = page.locator('table.install-products tbody tr').first();
  await expect(directorRow).toContainText('BOSH Director');
  await expect(directorRow).toHaveAttribute('data-status', 'succeeded');
  await expect(directorRow.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  // The log followed its last line.
  await expect(page.locator('pre.install-log')).toHaveAttribute('data-following', 'true');
  await page.screenshot({ path: '/tmp/e2e-apply-succeeded.png', fullPage: true });

  // --- The Change Log, from the link the finished page shows.
  await page.getByRole('link', { name: 'View the Change Log' }).click();
  await expect(page).toHaveURL(/\/installations$/);
  const entry = page.locator(`section.installation-entry[data-id="${id}"]`);
  await expect(entry).toHaveAttribute('data-status', 'succeeded');
  await expect(entry.locator('table.installation-head')).toContainText('admin');
  const productRow = entry.locator(`table.installation-products tr[data-guid="${guid}"]`);
  await expect(productRow).toContainText('Pivotal Container Service');
  await expect(productRow.locator('td.action')).toHaveText('ADDED');
  const directorEntry = entry.locator('table.installation-products tbody tr').first();
  await expect(directorEntry).toContainText('BOSH Director');
  await expect(directorEntry.locator('td.action')).toHaveText('ADDED');
  await expect(entry.getByRole('link', { name: 'Logs' })).toHaveAttribute('href', `/installations/${id}`);
  await page.screenshot({ path: '/tmp/e2e-apply-change-log.png', fullPage: true });

  // --- The Status tab: the VM, refreshing on its own.
  await page.goto(`/products/${guid}/status`);
  const vm = page.locator(`table.status-table tr[data-instance="${PKS}/0"]`);
  await expect(vm).toHaveAttribute('data-state', 'running');
  await expect(vm).toContainText('az1');
  await expect(vm).toContainText('10.0.0.');
  // At 1400 px the Status table fits the page (it wraps or scrolls inside its own box).
  await page.setViewportSize({ width: 1400, height: 900 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1400);
  await expect(page.locator('main.product-status')).not.toHaveAttribute('data-refreshed', '0', { timeout: 30_000 });
  const cid = (await vm.locator('td.cid').textContent())!.trim();
  expect(cid).not.toBe('—');
  await page.screenshot({ path: '/tmp/e2e-apply-status.png', fullPage: true });

  // --- Kill the VM through the stand-in's chaos endpoint, with the credentials Tileworks gives
  // for the `bosh` CLI. The resurrector is paused while we look at the dead VM (with a short VM
  // latency it would otherwise heal it between two refreshes), then resumed.
  const creds: string = (await api(
    request, token, 'GET', '/api/v0/deployed/director/credentials/bosh_commandline_credentials',
  )).credential;
  const env = (name: string) => creds.split(/\s+/).find((kv) => kv.startsWith(`${name}=`))!.slice(name.length + 1);
  const director = await playwrightRequest.newContext({
    baseURL: env('BOSH_ENVIRONMENT'),
    ignoreHTTPSErrors: true,
    httpCredentials: { username: env('BOSH_CLIENT'), password: env('BOSH_CLIENT_SECRET'), send: 'always' },
  });
  try {
    const pause = await director.put('/resurrection', { data: { resurrection_paused: true } });
    expect(pause.status(), await pause.text()).toBe(200);
    const kill = await director.post(`/chaos/deployments/${guid}/instances/${PKS}/0/kill`);
    expect(kill.status(), await kill.text()).toBe(200);
    await expect(vm).toHaveAttribute('data-state', 'unresponsive agent', { timeout: 30_000 });
    await expect(vm.locator('td.vm-state')).toHaveText('unresponsive agent');
    await page.screenshot({ path: '/tmp/e2e-apply-unresponsive.png', fullPage: true });
  } finally {
    await director.put('/resurrection', { data: { resurrection_paused: false } });
  }
  await expect(vm).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await expect(vm.locator('td.cid')).not.toHaveText(cid);
  await page.screenshot({ path: '/tmp/e2e-apply-healed.png', fullPage: true });
  await director.dispose();
  expect(pageErrors).toEqual([]);
  await context.close();
});

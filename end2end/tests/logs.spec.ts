import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import {
  apiToken, applyChangesAndWait, logIn, makePksDeployable, OwnTileworks, PKS, startOwnTileworks,
} from './helpers';

// Log downloads on the Status tab, as Ops Manager 3.0.3+ has them: per row a Logs link for the
// instance and one for its whole instance group; a click fetches the logs from the Director
// (a spinner meanwhile), then the link downloads a .tgz of the jobs' logs. The page refreshes
// every 2 s; a finished fetch's link survives that.
//
// PKS is deployed, so this spec runs its own Tileworks (see startOwnTileworks).

let own: OwnTileworks | undefined;

test.beforeAll(async () => {
  own = await startOwnTileworks('logs', ['--director-vm-create-ms', '0']);
});

test.afterAll(async () => {
  own?.stop();
});

/// The files of a gzipped tarball, listed by `tar` (the tool an operator would use).
function tarballFiles(file: string): string[] {
  return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().replace(/^\.\//, ''))
    .filter((l) => l && !l.endsWith('/'));
}

test('Logs links on the Status tab fetch and download instance and group logs', async ({ browser }) => {
  test.setTimeout(240_000);
  const context = await browser.newContext({ baseURL: own!.baseURL, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const token = await apiToken(page.request);
  const guid = await makePksDeployable(page.request, token);
  await applyChangesAndWait(page.request, token);

  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await page.goto(`/products/${guid}/status`);
  const row = page.locator(`table.status-table tr[data-instance="${PKS}/0"]`);
  await expect(row).toHaveAttribute('data-state', 'running');
  await expect(page.getByRole('columnheader', { name: 'Logs' })).toBeVisible();
  // The page has hydrated once it refreshes on its own; clicks before that would do nothing.
  await expect(page.locator('main.product-status')).not.toHaveAttribute('data-refreshed', '0', { timeout: 30_000 });

  const work = mkdtempSync(path.join(tmpdir(), 'e2e-logs-'));
  try {
    // --- This instance.
    await row.locator('button.log-link[data-logs="instance"]').click();
    const instanceLink = row.locator('a.log-download[data-logs="instance"]');
    await expect(instanceLink).toBeVisible({ timeout: 60_000 });
    await page.screenshot({ path: '/tmp/e2e-logs-ready.png', fullPage: true });
    // A refresh of the list keeps the finished fetch's link.
    const refreshed = Number(await page.locator('main.product-status').getAttribute('data-refreshed'));
    await expect
      .poll(async () => Number(await page.locator('main.product-status').getAttribute('data-refreshed')), { timeout: 30_000 })
      .toBeGreaterThan(refreshed);
    await expect(instanceLink).toBeVisible();

    const [download] = await Promise.all([page.waitForEvent('download'), instanceLink.click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`-${PKS}-0-\\d{8}T\\d{6}Z\\.tgz$`));
    const instanceFile = path.join(work, 'instance.tgz');
    await download.saveAs(instanceFile);
    const bytes = readFileSync(instanceFile);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const files = tarballFiles(instanceFile);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f).toMatch(/^([^/]+)\/\1\.std(out|err)\.log$/);

    // --- The whole instance group.
    await row.locator('button.log-link[data-logs="group"]').click();
    const groupLink = row.locator('a.log-download[data-logs="group"]');
    await expect(groupLink).toBeVisible({ timeout: 60_000 });
    const [groupDownload] = await Promise.all([page.waitForEvent('download'), groupLink.click()]);
    expect(groupDownload.suggestedFilename()).toMatch(new RegExp(`-${PKS}-\\d{8}T\\d{6}Z\\.tgz$`));
    const groupFile = path.join(work, 'group.tgz');
    await groupDownload.saveAs(groupFile);
    const groupFiles = tarballFiles(groupFile);
    for (const f of files) expect(groupFiles.some((g) => g.endsWith(f))).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  expect(pageErrors).toEqual([]);
  await context.close();
});

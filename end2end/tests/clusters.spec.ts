import { expect, test } from '@playwright/test';
import {
  apiToken, applyChangesAndWait, logIn, makePksDeployable, OwnTileworks, startOwnTileworks, waitForHydration,
} from './helpers';

// A Kubernetes cluster's life on the Clusters page, in Chromium: create (the form checks the
// plan's worker limit as you type), the provisioning followed live until it succeeded, a
// resize, the kubeconfig download from the cluster page, and a delete with its confirmation.
//
// PKS is deployed, so this spec runs its own Tileworks (see startOwnTileworks).

let own: OwnTileworks | undefined;

test.beforeAll(async () => {
  own = await startOwnTileworks('clusters', ['--director-vm-create-ms', '200']);
});

test.afterAll(async () => {
  own?.stop();
});

test('create, follow, resize, download the kubeconfig of and delete a cluster', async ({ browser }) => {
  test.setTimeout(300_000);
  const context = await browser.newContext({ baseURL: own!.baseURL, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const token = await apiToken(page.request);
  await makePksDeployable(page.request, token);
  await applyChangesAndWait(page.request, token);

  await logIn(page);
  await page.getByRole('link', { name: 'Clusters' }).click();
  await expect(page).toHaveURL(/\/clusters$/);
  await expect(page.getByText('No clusters yet.')).toBeVisible();
  await waitForHydration(page, 'main.clusters');

  // The plan's limit is checked as the operator types (the bundled plan allows 50 workers).
  const form = page.locator('form.cluster-form');
  await form.locator('input[name="name"]').fill('e2e-k8s');
  await form.locator('input[name="external_hostname"]').fill('e2e-k8s.example.com');
  await form.locator('input[name="worker_instances"]').fill('51');
  await expect(form.getByRole('alert')).toContainText('more than this plan allows');
  await expect(form.getByRole('button', { name: 'Create cluster' })).toBeDisabled();
  await form.locator('input[name="worker_instances"]').fill('1');
  await expect(form.getByRole('alert')).toHaveCount(0);
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(page.getByRole('status')).toContainText('Creating e2e-k8s');

  // The page follows the provisioning by itself until it has succeeded.
  const row = page.locator('tr[data-cluster="e2e-k8s"]');
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(row).toContainText('Instance provisioning completed');
  await expect(row.locator('td.workers')).toHaveText('1');
  await page.screenshot({ path: '/tmp/e2e-clusters-list.png', fullPage: true });

  // Resize to 2 workers; the row follows the update to its end.
  await row.getByLabel('Worker nodes of e2e-k8s').fill('2');
  await row.getByRole('button', { name: 'Resize' }).click();
  await expect(page.getByRole('status')).toContainText('Resizing e2e-k8s to 2 workers');
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(row).toContainText('Instance update completed');
  await expect(row.locator('td.workers')).toHaveText('2');

  // The cluster page: its VMs and the kubeconfig download.
  await row.getByRole('link', { name: 'e2e-k8s' }).click();
  await expect(page).toHaveURL(/\/clusters\/e2e-k8s$/);
  await expect(page.locator('table.cluster-vms tr[data-group="worker"]')).toHaveCount(2);
  await page.screenshot({ path: '/tmp/e2e-cluster-page.png', fullPage: true });
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download kubeconfig' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('e2e-k8s-kubeconfig.yml');
  const kubeconfig = await page.request.get('/clusters/e2e-k8s/kubeconfig');
  expect(kubeconfig.status()).toBe(200);
  expect(await kubeconfig.text()).toContain('e2e-k8s');

  // Delete asks for a confirmation, then the cluster goes.
  await page.goto('/clusters');
  await waitForHydration(page, 'main.clusters');
  const again = page.locator('tr[data-cluster="e2e-k8s"]');
  await again.getByRole('button', { name: 'Delete' }).click();
  await expect(again.getByRole('button', { name: /Confirm: delete e2e-k8s/ })).toBeVisible();
  await again.getByRole('button', { name: /Confirm: delete e2e-k8s/ }).click();
  await expect(page.getByRole('status')).toContainText('Deleting e2e-k8s');
  await expect(again).toHaveCount(0, { timeout: 120_000 });
  await expect(page.getByText('No clusters yet.')).toBeVisible();
  expect(pageErrors).toEqual([]);
  await context.close();
});

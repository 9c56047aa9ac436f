import { expect, test } from '@playwright/test';
import {
  apiToken, applyChangesAndWait, logIn, makePksDeployable, OwnTileworks, startOwnTileworks, waitForHydration,
} from './helpers';

// The Credentials tab of a deployed product, as Ops Manager has it: the credentials by
// reference and type, and per row Link to Credential, which fetches the value on click (it is
// never in the page's HTML) and shows it under the row until Hide takes it off the page.
//
// PKS is deployed, so this spec runs its own Tileworks (see startOwnTileworks).

const VSPHERE_CREDS = '.properties.cloud_provider.vsphere.vcenter_master_creds';
// What makePksDeployable sets.
const VSPHERE_PASSWORD = 'pks-vcenter-secret';

let own: OwnTileworks | undefined;

test.beforeAll(async () => {
  own = await startOwnTileworks('credentials', ['--director-vm-create-ms', '0']);
});

test.afterAll(async () => {
  own?.stop();
});

test('Link to Credential reveals a deployed credential and Hide removes it', async ({ browser }) => {
  test.setTimeout(240_000);
  const context = await browser.newContext({ baseURL: own!.baseURL });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const token = await apiToken(page.request);
  const guid = await makePksDeployable(page.request, token);
  await applyChangesAndWait(page.request, token);

  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  // From the Status tab to the Credentials tab.
  await page.goto(`/products/${guid}/status`);
  await page.getByRole('navigation', { name: 'Product' }).getByRole('link', { name: 'Credentials' }).click();
  await expect(page).toHaveURL(new RegExp(`/products/${guid}/credentials$`));
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Credentials');

  // The server-rendered page lists the reference and its type, and holds no value.
  const row = page.locator(`table.credentials-table tr[data-reference="${VSPHERE_CREDS}"]`);
  await expect(row).toContainText('simple_credentials');
  expect(await page.content()).not.toContain(VSPHERE_PASSWORD);
  await expect(page.locator('.bosh-variables li').first()).toBeVisible();

  await waitForHydration(page, 'main.product-credentials');
  await row.getByRole('button', { name: 'Link to Credential' }).click();
  const value = page.locator(`tr.credential-value[data-value-of="${VSPHERE_CREDS}"]`);
  await expect(value.locator('pre[data-field="password"]')).toHaveText(VSPHERE_PASSWORD);
  await expect(value.locator('pre[data-field="identity"]')).toHaveText('administrator@vsphere.local');
  await page.screenshot({ path: '/tmp/e2e-credentials-revealed.png', fullPage: true });

  // Hide takes the value off the page, not just out of sight.
  await row.getByRole('button', { name: 'Hide' }).click();
  await expect(value).toHaveCount(0);
  expect(await page.content()).not.toContain(VSPHERE_PASSWORD);
  await expect(row.getByRole('button', { name: 'Link to Credential' })).toBeVisible();
  expect(pageErrors).toEqual([]);
  await context.close();
});

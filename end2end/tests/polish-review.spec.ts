import { expect, test } from '@playwright/test';
import {
  api,
  apiToken,
  logIn,
  makePksDeployable,
  OwnTileworks,
  stagedWidgetTile,
  startOwnTileworks,
  waitForHydration,
} from './helpers';

// The rough edges of the dashboard and Review Pending Changes (issue 13): problems named by their
// form and field with a link there (the reference kept small), "Missing stemcell" said once, and
// an incomplete product left unticked with Apply Changes disabled while it is part of the run.
//
// Its own Tileworks: the Director and PKS are configured through the API and then one PKS value
// is blanked, which the shared server's other specs must not see.

let own: OwnTileworks | undefined;
let baseURL = '';

test.beforeAll(async () => {
  own = await startOwnTileworks('polish-review');
  baseURL = own.baseURL;
});

test.afterAll(async () => {
  own?.stop();
});

// GCP chosen as the cloud provider and its project left blank: a problem inside a selector option.
const PROJECT = '.properties.cloud_provider.gcp.project_id';
const PROJECT_LINK = 'Kubernetes Cloud Provider › GCP › GCP Project ID';
const PROJECT_ID = 'f_properties_cloud_provider_gcp_project_id';
const provider = (option: string, value: string) => ({
  '.properties.cloud_provider': { selected_option: option, option_value: option, value },
});

test('problems name their form and field and link there; an incomplete product is left unticked and Apply Changes is disabled', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const request = page.request;
  const token = await apiToken(request);
  const guid = await makePksDeployable(request, token);
  // PKS incomplete, the Director complete.
  await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, { properties: provider('gcp', 'GCP') });
  await logIn(page);

  // --- The dashboard's PKS tile: the problem by its form and label, linking to the field.
  const tile = page.locator(`a.tile[data-guid="${guid}"]`);
  await expect(tile).toHaveClass(/tile-incomplete/);
  const reasons = page.locator(`.tile-reasons[data-guid="${guid}"]`);
  const tileProblem = reasons.locator(`li.problem[data-reference="${PROJECT}"]`);
  await expect(tileProblem.getByRole('link')).toHaveText(PROJECT_LINK);
  await expect(tileProblem).toContainText("can't be blank");
  await expect(tileProblem.locator('code.problem-reference')).toHaveText(PROJECT);

  // --- Review: the same wording, unticked, and why; Apply Changes disabled while it is ticked.
  await page.goto('/review');
  await waitForHydration(page, '.review-layout');
  const row = page.locator(`li.review-product[data-guid="${guid}"]`);
  await expect(row).toHaveClass(/not-deployable/);
  const problem = row.locator(`li.problem[data-reference="${PROJECT}"]`);
  const link = problem.getByRole('link', { name: PROJECT_LINK });
  await expect(link).toHaveAttribute('href', `/products/${guid}/settings?form=cloud_provider#${PROJECT_ID}`);
  await expect(problem.locator('code.problem-reference')).toHaveText(PROJECT);
  // No problem reads as a bare reference, and "Missing stemcell" is never said twice.
  for (const field of await row.locator('.problem-field').allTextContents()) {
    expect(field.startsWith('.'), `a problem named by its reference: ${field}`).toBe(false);
  }
  expect(await row.innerText()).not.toContain('Missing stemcell: Missing stemcell');

  const box = row.getByRole('checkbox', { name: 'Deploy Pivotal Container Service' });
  await expect(box).not.toBeChecked();
  await expect(row.locator('.not-selected-note')).toHaveText(/Not selected: it cannot deploy/);
  const apply = page.getByRole('button', { name: 'Apply Changes' });
  await expect(apply).toBeEnabled();
  await box.check();
  await expect(apply).toBeDisabled();
  await expect(page.locator('.apply-blocked')).toContainText('Pivotal Container Service cannot deploy as configured');
  await expect(row.locator('.not-selected-note')).toContainText('Apply Changes stays disabled while it is selected');
  await page.screenshot({ path: '/tmp/e2e-polish-review-blocked.png', fullPage: true });
  await box.uncheck();
  await expect(apply).toBeEnabled();
  await expect(page.locator('.apply-blocked')).toHaveCount(0);

  // The server still refuses it, whatever a page does.
  const refused = await request.post('/api/v0/installations', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    data: JSON.stringify({ deploy_products: [guid] }),
  });
  expect(refused.status()).toBe(422);

  // --- The link leads to the form, at the field.
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/products/${guid}/settings\\?form=cloud_provider#${PROJECT_ID}$`));
  await expect(page.locator(`#${PROJECT_ID}`)).toBeVisible();

  // Completed again: ticked from the start and Apply Changes enabled.
  await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, {
    properties: provider('vsphere', 'vSphere'),
  });
  await page.goto('/review');
  await waitForHydration(page, '.review-layout');
  await expect(row.getByRole('checkbox', { name: 'Deploy Pivotal Container Service' })).toBeChecked();
  await expect(row.locator('.not-selected-note')).toHaveCount(0);
  await expect(apply).toBeEnabled();
  await context.close();
});

test('Assign AZs and Networks comes first in a product\'s navigation, marked while its placement is missing', async ({
  browser,
}) => {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const request = page.request;
  // A product without any placement yet.
  const widgets = await stagedWidgetTile(request);
  await logIn(page);
  await page.goto(`/products/${widgets}/settings`);
  const nav = page.getByRole('navigation', { name: 'Settings' });
  const first = nav.locator('li').first();
  await expect(first).toHaveAttribute('data-section', 'azs');
  await expect(first).toContainText('Assign AZs and Networks');
  await expect(first.locator('.mark')).toHaveAttribute('title', 'needs configuration');
  await page.screenshot({ path: '/tmp/e2e-polish-azs-first.png' });

  // PKS (placed by the first test, or placed here) is marked complete.
  const token = await apiToken(request);
  const pks = ((await api(request, token, 'GET', '/api/v0/staged/products')) as any[]).find(
    (p) => p.type === 'pivotal-container-service',
  )?.guid as string | undefined;
  const guid = pks ?? (await makePksDeployable(request, token));
  await page.goto(`/products/${guid}/settings`);
  await expect(nav.locator('li').first()).toHaveAttribute('data-section', 'azs');
  await expect(nav.locator('li').first().locator('.mark')).toHaveAttribute('title', 'complete');
  await context.close();
});

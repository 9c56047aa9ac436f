import { APIRequestContext, expect, test } from '@playwright/test';
import { api, apiToken, logIn, waitForHydration } from './helpers';

// Review Pending Changes and See changes in the browser, with the bundled PKS tile staged.
//
// Independent of the other specs: PKS is staged here (through the API) when no earlier spec has
// staged it, and given a network placement so its manifest renders. Whether it is deployable
// depends on what ran before (pks.spec.ts configures it fully), so the expectations follow the
// state the API reports: an incomplete PKS shows its warnings in orange and Apply Changes is
// refused with the reasons; a deployable one is green and Apply Changes starts an installation.

const PKS = 'pivotal-container-service';

/// The staged PKS GUID, staging it and placing it on a network when needed.
async function ensurePks(request: APIRequestContext, token: string): Promise<string> {
  const list = (await api(request, token, 'GET', '/api/v0/staged/products')) as any[];
  let guid = list.find((p) => p.type === PKS)?.guid as string | undefined;
  if (!guid) {
    guid = (await api(request, token, 'POST', '/api/v0/staged/products', { name: PKS, product_version: 'latest' }))
      .guid as string;
  }
  const placement = (await api(request, token, 'GET', `/api/v0/staged/products/${guid}/networks_and_azs`))
    .networks_and_azs;
  if (!placement?.network?.name) {
    // Additive, as pks.spec.ts does: keep the AZs and networks another spec configured.
    const azs = ((await api(request, token, 'GET', '/api/v0/staged/director/availability_zones')) as any)
      .availability_zones as any[];
    if (!azs.some((az) => az.name === 'review-az')) {
      await api(request, token, 'PUT', '/api/v0/staged/director/availability_zones', {
        availability_zones: [...azs, { name: 'review-az' }],
      });
    }
    const networks = (((await api(request, token, 'GET', '/api/v0/staged/director/networks')) as any).networks ??
      []) as any[];
    if (!networks.some((n) => n.name === 'review-net')) {
      await api(request, token, 'PUT', '/api/v0/staged/director/networks', {
        icmp_checks_enabled: false,
        networks: [
          ...networks,
          {
            name: 'review-net',
            subnets: [{
              iaas_identifier: 'review-net', cidr: '10.0.120.0/24', gateway: '10.0.120.1', dns: '10.0.0.2',
              reserved_ip_ranges: '10.0.120.1-10.0.120.9', availability_zone_names: ['review-az'],
            }],
          },
        ],
      });
    }
    await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/networks_and_azs`, {
      networks_and_azs: {
        network: { name: 'review-net' },
        service_network: { name: 'review-net' },
        singleton_availability_zone: { name: 'review-az' },
        other_availability_zones: [{ name: 'review-az' }],
      },
    });
  }
  return guid;
}

/// Every credential value of a product: what `redact=false` shows where the default read shows `***`.
async function secretsOf(request: APIRequestContext, token: string, guid: string): Promise<string[]> {
  const path = `/api/v0/staged/products/${guid}/properties`;
  const hidden = (await api(request, token, 'GET', path)).properties;
  const open = (await api(request, token, 'GET', `${path}?redact=false`)).properties;
  const out: string[] = [];
  const walk = (h: any, o: any) => {
    if (h === '***' && typeof o === 'string') {
      if (o.length >= 8) out.push(o);
    } else if (h && o && typeof h === 'object' && typeof o === 'object') {
      for (const k of Object.keys(h)) walk(h[k], o[k]);
    }
  };
  walk(hidden, open);
  return out;
}

test('Review Pending Changes: products, selection, errand overrides, See changes, Apply Changes', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const token = await apiToken(request);
  const guid = await ensurePks(request, token);
  const changes = ((await api(request, token, 'GET', '/api/v0/staged/pending_changes')) as any).product_changes as any[];
  const entry = changes.find((c) => c.guid === guid);
  const directorEntry = changes[0];
  const deployable = (c: any) =>
    c.completeness_checks.configuration_complete && c.completeness_checks.stemcell_present;
  const secrets = await secretsOf(request, token, guid);
  expect(secrets.length, 'PKS holds credentials (generated ones at least)').toBeGreaterThan(0);

  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await page.locator('header.topbar').getByRole('link', { name: 'Review Pending Changes' }).click();
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByRole('heading', { name: 'Review Pending Changes', level: 1 })).toBeVisible();
  await waitForHydration(page, '.review-layout');

  // --- The rows: the Director always included, PKS with its version, action and state.
  const director = page.locator('li.review-product[data-product="p-bosh"]');
  await expect(director.getByRole('checkbox')).toBeChecked();
  await expect(director.getByRole('checkbox')).toBeDisabled();
  await expect(director.getByRole('link', { name: 'See changes' })).toHaveAttribute('href', '/director/changes');
  const pks = page.locator(`li.review-product[data-guid="${guid}"]`);
  await expect(pks.getByRole('heading', { level: 2 })).toHaveText('Pivotal Container Service');
  await expect(pks.locator('.version').first()).toHaveText(`v${entry.staged.version}`);
  await expect(pks).toHaveAttribute('data-action', entry.action);
  const actionText = { install: 'Install', update: 'Update', delete: 'Delete', unchanged: 'No pending changes' } as any;
  await expect(pks.locator('.action')).toHaveText(actionText[entry.action]);
  if (deployable(entry)) {
    await expect(pks).toHaveClass(/\bdeployable\b/);
    await expect(pks.locator('.review-ok')).toHaveText('Ready to deploy');
  } else {
    await expect(pks).toHaveClass(/not-deployable/);
    const warnings = pks.locator('.review-warnings');
    if (!entry.completeness_checks.configuration_complete) {
      await expect(warnings).toContainText('Configuration incomplete');
      const [reference] = Object.keys(entry.missing).concat(Object.keys(entry.invalid));
      await expect(warnings).toContainText(reference);
    } else {
      await expect(warnings).toContainText('Missing stemcell');
    }
  }

  // --- Select All and the per-product checkboxes: products with pending changes start
  // selected, ones without do not (deploying them again is a warning), and neither do products
  // that cannot deploy as configured (they say why).
  const selectAll = page.getByLabel('Select All Products');
  const pksBox = pks.getByRole('checkbox', { name: 'Deploy Pivotal Container Service' });
  if (entry.action === 'unchanged') {
    await expect(pksBox).not.toBeChecked();
    await expect(selectAll).not.toBeChecked();
  } else if (deployable(entry)) {
    await expect(pksBox).toBeChecked();
  } else {
    await expect(pksBox).not.toBeChecked();
    await expect(pks.locator('.not-selected-note')).toContainText('Not selected');
  }
  await selectAll.check();
  await expect(pksBox).toBeChecked();
  await selectAll.uncheck();
  await expect(pksBox).not.toBeChecked();
  await expect(director.getByRole('checkbox')).toBeChecked();
  await selectAll.check();
  await expect(pksBox).toBeChecked();
  await pksBox.uncheck();
  await expect(selectAll).not.toBeChecked();
  await pksBox.check();
  await expect(selectAll).toBeChecked();

  // --- A one-time errand override.
  const smoke = pks.locator('tr.errand[data-errand="smoke-tests"] select');
  await expect(smoke).toHaveValue('default');
  await expect(smoke.locator('option')).toHaveText([/^Default \(/, 'On', 'Off']);
  await smoke.selectOption('on');
  await expect(smoke).toHaveValue('on');

  // --- See changes: the manifest diff, credentials as placeholders only.
  await pks.getByRole('link', { name: 'See changes' }).click();
  await expect(page).toHaveURL(new RegExp(`/products/${guid}/changes$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Changes: Pivotal Container Service v${entry.staged.version}`);
  const manifest = page.getByRole('region', { name: 'Manifest' });
  if (entry.action === 'unchanged') {
    await expect(manifest.locator('.no-changes')).toHaveText('No changes');
  } else {
    await expect(manifest.locator('.diff-line.added').first()).toBeVisible();
    await expect(manifest.locator('pre.diff')).toContainText('((');
  }
  await expect(page.getByRole('region', { name: 'Runtime configs' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Errands' })).toBeVisible();
  const text = await page.locator('main').innerText();
  for (const secret of secrets) {
    expect(text.includes(secret), 'a credential value shows on See changes').toBe(false);
  }
  await page.screenshot({ path: '/tmp/e2e-review-changes.png', fullPage: true });

  // The Director's changes page answers too (a diff, or why there is none yet).
  await page.goto('/director/changes');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Changes: BOSH Director');
  await expect(
    page.getByRole('region', { name: 'Cloud config' }).or(page.getByText('cannot be rendered yet')),
  ).toBeVisible();

  // --- Apply Changes with the selection and the override.
  await page.goto('/review');
  await waitForHydration(page, '.review-layout');
  await page.screenshot({ path: '/tmp/e2e-review.png', fullPage: true });
  await page.locator(`li.review-product[data-guid="${guid}"] tr.errand[data-errand="smoke-tests"] select`).selectOption('off');
  await page.getByLabel('Select All Products').check();
  // A product without pending changes (deployed by an earlier spec) is simply deployed again.
  await expect(page.getByLabel('Ignore warnings')).toHaveCount(0);
  if (!deployable(entry) || !deployable(directorEntry)) {
    // Something chosen cannot deploy: Apply Changes is disabled and says what (the server's
    // refusal is covered by polish-review.spec.ts and the API tests).
    await expect(page.getByRole('button', { name: 'Apply Changes' })).toBeDisabled();
    await expect(page.locator('.apply-blocked')).toContainText('cannot deploy as configured');
    await page.screenshot({ path: '/tmp/e2e-review-refused.png', fullPage: true });
    return;
  }
  await page.getByRole('button', { name: 'Apply Changes' }).click();
  if (deployable(entry) && deployable(directorEntry)) {
    await expect(page).toHaveURL(/\/installations\/\d+$/);
    const id = page.url().split('/').pop();
    // Let it end, so later specs can change the configuration again.
    await expect
      .poll(async () => (await api(request, token, 'GET', `/api/v0/installations/${id}`)).status, { timeout: 60_000 })
      .not.toBe('running');
    const logs = (await api(request, token, 'GET', `/api/v0/installations/${id}/logs`)).logs as string;
    expect(logs).toContain('Errand smoke-tests skipped (off for this apply)');
    // Deployed: nothing pending any more, and See changes has nothing to show.
    await page.goto('/review');
    await waitForHydration(page, '.review-layout');
    const row = page.locator(`li.review-product[data-guid="${guid}"]`);
    await expect(row).toHaveAttribute('data-action', 'unchanged');
    await expect(row.locator('.action')).toHaveText('No pending changes');
    await row.getByRole('link', { name: 'See changes' }).click();
    await expect(page.getByRole('region', { name: 'Manifest' }).locator('.no-changes')).toHaveText('No changes');
    await expect(page.getByRole('region', { name: 'Errands' }).locator('.no-changes')).toHaveText('No changes');
  } else {
    const refusal = page.locator('.apply-notice.refused');
    await expect(refusal).toContainText('Apply Changes was refused; nothing was deployed');
    if (!deployable(entry)) {
      await expect(page.locator(`li.review-product[data-guid="${guid}"] .review-refusal`)).toBeVisible();
      await expect(refusal).toContainText(/Pivotal Container Service: \d+ problems? \(listed under the product\)/);
      await expect(page.locator(`li.review-product[data-guid="${guid}"] .review-refusal`)).toContainText(
        'Apply Changes refused this product',
      );
    }
    await expect(page).toHaveURL(/\/review$/);
    await page.screenshot({ path: '/tmp/e2e-review-refused.png', fullPage: true });
  }
});

import { expect, Locator, Page, test } from '@playwright/test';
import { api, apiToken, logIn, waitForHydration, selfSignedCertificate } from './helpers';

// The bundled PKS tile configured in the browser, form by form, until its tile turns green.
//
// Everything is done in the browser: the Director tile's AZs and networks (added to whatever the
// Director has, so the spec does not depend on director.spec.ts running first), the product's
// forms, Assign AZs and Networks and Resource Config. The API is only used to check the result.

const PKS = { name: 'pivotal-container-service', label: 'Pivotal Container Service' };
const HOSTNAME = 'api.pks.example.com';

function field(page: Page, reference: string): Locator {
  return page.locator(`.field[data-reference="${reference}"]`);
}

function navLink(page: Page, label: string): Locator {
  // The link reads "<mark> <label>"; match the whole label (Plan 1 is not Plan 10).
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page
    .getByRole('navigation', { name: 'Settings' })
    .getByRole('link')
    .filter({ hasText: new RegExp(`^\\W*${escaped}$`) });
}

/// Opens a section of the Director tile once the wasm bundle has taken over the page.
async function openDirectorSection(page: Page, section: string, heading: string) {
  await page.goto(`/director?section=${section}`);
  await expect(page.locator('main.director')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 2, name: heading })).toBeVisible();
}

/// The control of a Director page field, by its key.
function directorControl(page: Page, key: string): Locator {
  return page.locator(`[data-field="${key}"]`).locator('input, textarea, select').first();
}

/// The values of the Director page's fields whose key matches `pattern` (e.g. the AZ names).
async function directorValues(page: Page, pattern: RegExp): Promise<string[]> {
  return page.locator('[data-field]').evaluateAll(
    (els, source) => {
      const re = new RegExp(source);
      return els
        .filter((e) => re.test(e.getAttribute('data-field') ?? ''))
        .map((e) => (e.querySelector('input, textarea, select') as HTMLInputElement | null)?.value ?? '');
    },
    pattern.source,
  );
}

/// Create Availability Zones: adds the AZs the Director does not have yet.
async function addDirectorAzs(page: Page, wanted: string[]) {
  await openDirectorSection(page, 'azs', 'Create Availability Zones');
  const names = await directorValues(page, /^availability_zones\[\d+\]\.name$/);
  const missing = wanted.filter((n) => !names.includes(n));
  for (const [k, name] of missing.entries()) {
    const at = `availability_zones[${names.length + k}]`;
    await page.getByRole('button', { name: 'Add availability zone' }).click();
    await directorControl(page, `${at}.name`).fill(name);
    // vSphere places an AZ on a cluster; other IaaSes name the IaaS's zone.
    const cluster = page.locator(`[data-field="${at}.clusters[0].cluster"] input`);
    if (await cluster.count()) await cluster.fill(`pks-${name}`);
    const identifier = page.locator(`[data-field="${at}.iaas_identifier"] input`);
    if (await identifier.count()) await identifier.fill(`pks-${name}`);
  }
  if (missing.length > 0) {
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Availability zones saved.');
  }
  expect(await directorValues(page, /^availability_zones\[\d+\]\.name$/)).toEqual(expect.arrayContaining(wanted));
}

/// Create Networks: adds the networks the Director does not have yet, one subnet each over `azs`.
async function addDirectorNetworks(page: Page, wanted: { name: string; third: number }[], azs: string[]) {
  await openDirectorSection(page, 'networks', 'Create Networks');
  const names = await directorValues(page, /^networks\[\d+\]\.name$/);
  const missing = wanted.filter((n) => !names.includes(n.name));
  for (const [k, { name, third }] of missing.entries()) {
    const at = `networks[${names.length + k}]`;
    const subnet = `${at}.subnets[0]`;
    await page.getByRole('button', { name: 'Add network' }).click();
    await directorControl(page, `${at}.name`).fill(name);
    await directorControl(page, `${subnet}.iaas_identifier`).fill(`pks-net-${third}`);
    await directorControl(page, `${subnet}.cidr`).fill(`10.0.${third}.0/24`);
    await directorControl(page, `${subnet}.reserved_ip_ranges`).fill(`10.0.${third}.1-10.0.${third}.9`);
    await directorControl(page, `${subnet}.dns`).fill('10.0.0.2');
    await directorControl(page, `${subnet}.gateway`).fill(`10.0.${third}.1`);
    const choices = page.locator(`[data-field="${subnet}.availability_zone_names"]`);
    for (const az of azs) await choices.getByLabel(az, { exact: true }).check();
  }
  if (missing.length > 0) {
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Networks saved.');
  }
  expect(await directorValues(page, /^networks\[\d+\]\.name$/)).toEqual(
    expect.arrayContaining(wanted.map((n) => n.name)),
  );
}

/// Saves the open form and waits for the server's answer.
async function saveForm(page: Page, form: string) {
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status'), `saving ${form}`).toHaveText('Settings saved.');
  await expect(navLink(page, form).locator('.mark')).toHaveAttribute('title', 'complete');
}

test('PKS: configured in the browser form by form until its tile is green', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = await apiToken(request);

  // --- The Director tile, in the browser: our AZs and networks, added to whatever the Director
  // already has (director.spec.ts may have configured it; its AZs and networks stay).
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await addDirectorAzs(page, ['az1', 'az2']);
  await addDirectorNetworks(page, [
    { name: 'pks-infrastructure', third: 101 },
    { name: 'pks-services', third: 102 },
  ], ['az1', 'az2']);

  // --- Stage the bundled tile with its + button.
  await page.goto('/');
  await waitForHydration(page, '.dashboard-layout');
  const staged = ((await api(request, token, 'GET', '/api/v0/staged/products')) as any[]).find(
    (p) => p.type === PKS.name,
  );
  if (staged) {
    // A leftover from an earlier run against the same server: start over.
    await api(request, token, 'DELETE', `/api/v0/staged/products/${staged.guid}`);
    await page.reload();
    await waitForHydration(page, '.dashboard-layout');
  }
  const row = page.locator(`li.available-product[data-product="${PKS.name}"]`);
  await row.getByRole('button', { name: /^Stage Pivotal Container Service/ }).click();
  const tile = page.locator(`a.tile[data-product="${PKS.name}"]`);
  await expect(tile).toHaveClass(/tile-incomplete/);
  const guid = (await tile.getAttribute('data-guid'))!;
  await tile.click();
  await expect(page).toHaveURL(new RegExp(`/products/${guid}/settings$`));
  await waitForHydration(page, 'form.settings-form');
  await expect(navLink(page, 'PKS API').locator('.mark')).toHaveAttribute('title', 'needs configuration');
  await page.screenshot({ path: '/tmp/e2e-pks-start.png', fullPage: true });

  // --- PKS API: paste a certificate for the hostname, and the hostname.
  const { cert, key } = selfSignedCertificate(HOSTNAME);
  const tls = field(page, '.pivotal-container-service.pks_tls');
  await tls.getByLabel('Certificate PEM').fill(cert);
  await tls.getByLabel('Private key PEM').fill(key);
  await page.getByLabel('API Hostname (FQDN)').fill(HOSTNAME);
  await saveForm(page, 'PKS API');

  // --- Plan 1: active, masters and workers spread over the AZs.
  await navLink(page, 'Plan 1').click();
  await expect(page.getByRole('heading', { name: 'Plan 1', level: 2 })).toBeVisible();
  await waitForHydration(page, 'form.settings-form');
  await expect(page.getByRole('radio', { name: 'Active' })).toBeChecked();
  const masterAzs = field(page, '.properties.plan1_selector.active.master_az_placement');
  const workerAzs = field(page, '.properties.plan1_selector.active.worker_az_placement');
  // Without AZs the plan cannot be saved: the error names the field.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Nothing was saved: fix the fields marked below.');
  await expect(masterAzs.locator(':scope > .field-errors')).toHaveText("can't be blank");
  await masterAzs.getByLabel('az1').check();
  await workerAzs.getByLabel('az1').check();
  await workerAzs.getByLabel('az2').check();
  await saveForm(page, 'Plan 1');

  // --- Plans 2 to 10: inactive.
  for (let plan = 2; plan <= 10; plan++) {
    await navLink(page, `Plan ${plan}`).click();
    await expect(page.getByRole('heading', { name: `Plan ${plan}`, level: 2 })).toBeVisible();
    await waitForHydration(page, 'form.settings-form');
    await page.getByRole('radio', { name: 'Inactive' }).check();
    await expect(page.locator('fieldset.selector-option')).toHaveCount(0);
    await saveForm(page, `Plan ${plan}`);
  }

  // --- Kubernetes Cloud Provider: vSphere.
  await navLink(page, 'Kubernetes Cloud Provider').click();
  await expect(page.getByRole('heading', { name: 'Kubernetes Cloud Provider', level: 2 })).toBeVisible();
  await waitForHydration(page, 'form.settings-form');
  await page.getByRole('radio', { name: 'vSphere' }).check();
  const creds = field(page, '.properties.cloud_provider.vsphere.vcenter_master_creds');
  await creds.getByLabel('Username').fill('pks-master@vsphere.local');
  await creds.getByLabel('Password').fill('vcenter-master-password');
  await page.getByLabel('vCenter Host').fill('vcenter.example.com');
  await page.getByLabel('Datacenter Name').fill('dc1');
  await page.getByLabel('Datastore Name').fill('ds1');
  await saveForm(page, 'Kubernetes Cloud Provider');

  // --- Networking (flannel with its default ranges), UAA (internal), and the remaining forms
  // with their defaults: each is saved once so the operator has seen it.
  for (const form of ['Networking', 'UAA', 'Logging', 'Monitoring', 'Usage Data']) {
    await navLink(page, form).click();
    await expect(page.getByRole('heading', { name: form, level: 2 })).toBeVisible();
    await waitForHydration(page, 'form.settings-form');
    if (form === 'Networking') {
      await expect(page.getByRole('radio', { name: 'Flannel' })).toBeChecked();
      await expect(page.getByLabel('Kubernetes Pod Network CIDR Range')).toHaveValue('10.200.0.0/16');
    }
    if (form === 'UAA') {
      await expect(page.getByRole('radio', { name: 'Internal UAA' })).toBeChecked();
    }
    await saveForm(page, form);
  }

  // Every form of the navigation is complete now (Assign AZs and Networks, first, is not yet).
  const marks = page.getByRole('navigation', { name: 'Settings' }).locator('li:not([data-section]) .mark');
  await expect(
    page.getByRole('navigation', { name: 'Settings' }).locator('li[data-section="azs"] .mark'),
  ).toHaveAttribute('title', 'needs configuration');
  const count = await marks.count();
  for (let i = 0; i < count; i++) {
    await expect(marks.nth(i)).toHaveAttribute('title', 'complete');
  }
  await page.screenshot({ path: '/tmp/e2e-pks-forms-complete.png', fullPage: true });

  // --- Assign AZs and Networks, in the browser: a Save without a network is refused with the
  // message under the field and the choices kept; then the complete placement saves.
  await navLink(page, 'Assign AZs and Networks').click();
  await expect(page.getByRole('heading', { name: 'Assign AZs and Networks', level: 2 })).toBeVisible();
  await waitForHydration(page, 'form.placement');
  await page.locator('#singleton_az').selectOption('az1');
  await page.locator('#balance_az1').check();
  await page.locator('#balance_az2').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Nothing was saved: fix the fields marked below.')).toBeVisible();
  await expect(page.locator('.field', { has: page.locator('#network') }).getByRole('alert')).toContainText(
    "can't be blank",
  );
  await expect(page.locator('#singleton_az')).toHaveValue('az1');
  await expect(page.locator('#balance_az2')).toBeChecked();
  await page.locator('#network').selectOption('pks-infrastructure');
  await page.locator('#service_network').selectOption('pks-services');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await page.reload();
  await expect(
    page.getByRole('navigation', { name: 'Settings' }).locator('li[data-section="azs"] .mark'),
  ).toHaveAttribute('title', 'complete');

  // --- Resource Config, in the browser: one instance of the control plane.
  await navLink(page, 'Resource Config').click();
  await expect(page.getByRole('heading', { name: 'Resource Config', level: 2 })).toBeVisible();
  await waitForHydration(page, 'form.placement');
  const instances = page.locator('table.resources input').first();
  await instances.fill('1');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await page.reload();
  await waitForHydration(page, 'form.placement');
  await expect(page.locator('table.resources input').first()).toHaveValue('1');

  await page.goto('/');
  const green = page.locator(`a.tile[data-product="${PKS.name}"]`);
  await expect(green).toHaveClass(/tile-complete/);
  await expect(green).toContainText('Ready to deploy');
  await page.screenshot({ path: '/tmp/e2e-pks-green.png', fullPage: true });

  const pending = await api(request, token, 'GET', '/api/v0/staged/pending_changes');
  const change = pending.product_changes.find((c: any) => c.guid === guid);
  expect(change.completeness_checks.configuration_complete).toBe(true);
});

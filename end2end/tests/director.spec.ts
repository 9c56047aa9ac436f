import { expect, Locator, Page, test } from '@playwright/test';
import { logIn } from './helpers';

/// Opens a section of the Director tile and waits until the wasm bundle has taken over the page
/// (typing before that would not reach the page's state).
async function openSection(page: Page, section: string, heading: string) {
  await page.goto(`/director?section=${section}`);
  await expect(page.locator('main.director')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 2, name: heading })).toBeVisible();
}

/// The control of the field filed under `key` (the page's field keys, as the service names them).
function control(page: Page, key: string): Locator {
  return page.locator(`[data-field="${key}"]`).locator('input, textarea, select').first();
}

async function save(page: Page, savedText: string) {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText(savedText);
}

test('the Director tile is configured in the browser and turns green', async ({ page }) => {
  // Hydration problems (a server/browser mismatch, a panic in the wasm) show on the console.
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await logIn(page);
  await expect(page.locator('[data-product="p-bosh"]')).toHaveClass(/tile-incomplete/);
  await page.locator('[data-product="p-bosh"]').click();
  await expect(page).toHaveURL(/\/director$/);
  await expect(page.getByRole('heading', { level: 2, name: 'IaaS Configuration' })).toBeVisible();
  // A fresh Tileworks on its stand-in starts on the embedded IaaS, which asks for nothing.
  await expect(page.getByLabel('Embedded (simulated)')).toBeChecked();
  await expect(page.locator('.settings-nav li[data-section="iaas"] .mark')).toHaveClass(/\bcomplete\b/);

  // IaaS: vSphere essentials (switching to a real IaaS asks for them). The password is write-only: once saved it only shows as set.
  await openSection(page, 'iaas', 'IaaS Configuration');
  await page.getByLabel('vSphere').check();
  await control(page, 'iaas_configuration.vcenter_host').fill('vcenter.example.com');
  await control(page, 'iaas_configuration.vcenter_username').fill('administrator@vsphere.local');
  await control(page, 'iaas_configuration.vcenter_password').fill('s3cret-vc');
  await control(page, 'iaas_configuration.datacenter').fill('dc1');
  await control(page, 'iaas_configuration.persistent_datastore_names').fill('ds-persistent');
  await control(page, 'iaas_configuration.ephemeral_datastore_names').fill('ds-ephemeral');
  await save(page, 'IaaS configuration saved.');
  await expect(page.locator('[data-field="iaas_configuration.vcenter_password"] .secret-set')).toHaveText('✓ set');
  await expect(control(page, 'iaas_configuration.vcenter_password')).toHaveValue('');
  await expect(page.locator('.settings-nav li[data-section="iaas"] .mark')).toHaveClass(/\bcomplete\b/);
  expect(await page.content()).not.toContain('s3cret-vc');
  await page.screenshot({ path: '/tmp/director-iaas.png', fullPage: true });

  // Director Config: NTP (a bad host name is refused in the service's words first).
  await openSection(page, 'director', 'Director Config');
  await control(page, 'director_configuration.ntp_servers_string').fill('bad host');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('[data-field="director_configuration.ntp_servers_string"] .field-errors'))
    .toHaveText("'bad host' is not a host name or IP address");
  await control(page, 'director_configuration.ntp_servers_string').fill('0.pool.ntp.org, 1.pool.ntp.org');
  await save(page, 'Director settings saved.');

  // Two AZs, each on a vSphere cluster.
  await openSection(page, 'azs', 'Create Availability Zones');
  for (const [i, name] of ['az1', 'az2'].entries()) {
    await page.getByRole('button', { name: 'Add availability zone' }).click();
    await control(page, `availability_zones[${i}].name`).fill(name);
    await control(page, `availability_zones[${i}].clusters[0].cluster`).fill(`cluster-${i + 1}`);
  }
  await control(page, 'availability_zones[0].clusters[0].resource_pool').fill('rp1');
  await save(page, 'Availability zones saved.');
  await expect(control(page, 'availability_zones[1].name')).toHaveValue('az2');

  // One network with a subnet over both AZs. A wrong CIDR is refused: the message is under the
  // CIDR field and every typed value is still there.
  await openSection(page, 'networks', 'Create Networks');
  await page.getByRole('button', { name: 'Add network' }).click();
  const subnet = 'networks[0].subnets[0]';
  await control(page, 'networks[0].name').fill('infrastructure');
  await control(page, `${subnet}.iaas_identifier`).fill('VM Network');
  await control(page, `${subnet}.cidr`).fill('10.0.0.0-24');
  await control(page, `${subnet}.reserved_ip_ranges`).fill('10.0.0.1-10.0.0.10');
  await control(page, `${subnet}.dns`).fill('10.0.0.2');
  await control(page, `${subnet}.gateway`).fill('10.0.0.1');
  const azs = page.locator(`[data-field="${subnet}.availability_zone_names"]`);
  await azs.getByLabel('az1').check();
  await azs.getByLabel('az2').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Nothing was saved: fix the fields marked below.');
  await expect(page.locator(`[data-field="${subnet}.cidr"] .field-errors`))
    .toHaveText("'10.0.0.0-24' is not in CIDR notation (like 10.0.0.0/24)");
  await expect(control(page, 'networks[0].name')).toHaveValue('infrastructure');
  await expect(control(page, `${subnet}.cidr`)).toHaveValue('10.0.0.0-24');
  await expect(control(page, `${subnet}.reserved_ip_ranges`)).toHaveValue('10.0.0.1-10.0.0.10');
  await expect(control(page, `${subnet}.gateway`)).toHaveValue('10.0.0.1');
  await expect(azs.getByLabel('az1')).toBeChecked();
  await expect(azs.getByLabel('az2')).toBeChecked();
  await page.screenshot({ path: '/tmp/director-networks-invalid.png', fullPage: true });
  await control(page, `${subnet}.cidr`).fill('10.0.0.0/24');
  await expect(page.locator(`[data-field="${subnet}.cidr"] .field-errors`)).toHaveCount(0);
  await save(page, 'Networks saved.');

  // The Director's own AZ and network.
  await openSection(page, 'network-and-az', 'Assign AZ and Network');
  await control(page, 'network_and_az.singleton_availability_zone').selectOption('az1');
  await control(page, 'network_and_az.network').selectOption('infrastructure');
  await save(page, "The Director's AZ and network saved.");
  for (const section of ['iaas', 'director', 'azs', 'networks', 'network-and-az', 'vm-types', 'disk-types']) {
    await expect(page.locator(`.settings-nav li[data-section="${section}"] .mark`)).toHaveClass(/\bcomplete\b/);
  }

  // The Cloud Config view shows what the Director would receive.
  await page.getByRole('link', { name: 'Cloud Config' }).click();
  const yaml = page.getByLabel('Cloud config YAML');
  await expect(yaml).toContainText('name: az1');
  await expect(yaml).toContainText('name: az2');
  await expect(yaml).toContainText('name: infrastructure');
  await expect(yaml).toContainText('range: 10.0.0.0/24');
  await expect(yaml).toContainText('cluster-1');
  await page.screenshot({ path: '/tmp/director-cloud-config.png', fullPage: true });

  // The dashboard's Director tile is green, with no reasons.
  await page.goto('/');
  const tile = page.locator('[data-product="p-bosh"]');
  await expect(tile).toHaveClass(/tile-complete/);
  await expect(page.locator('.tile-wrap', { has: tile }).locator('.tile-reasons')).toHaveCount(0);
  await expect(tile).toContainText('Ready to deploy');

  await openSection(page, 'networks', 'Create Networks');
  await page.screenshot({ path: '/tmp/director-networks.png', fullPage: true });
  expect(consoleErrors).toEqual([]);
});

test('VM types are listed from the default catalogue, edited, and reset', async ({ page }) => {
  await logIn(page);
  await openSection(page, 'vm-types', 'VM Types');
  await expect(page.locator('table.catalogue tbody tr')).toHaveCount(20);
  await expect(page.getByRole('button', { name: 'Reset to defaults' })).toBeDisabled();
  await page.getByRole('button', { name: 'Add VM type' }).click();
  await control(page, 'vm_types[20].name').fill('huge');
  await control(page, 'vm_types[20].cpu').fill('32');
  await control(page, 'vm_types[20].ram').fill('lots');
  await control(page, 'vm_types[20].ephemeral_disk').fill('65536');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('[data-field="vm_types[20].ram"] .field-errors')).toHaveText('must be greater than 0');
  await expect(control(page, 'vm_types[20].ram')).toHaveValue('lots');
  await control(page, 'vm_types[20].ram').fill('131072');
  await save(page, 'VM types saved.');
  await expect(page.locator('table.catalogue tbody tr')).toHaveCount(21);
  await page.getByRole('button', { name: 'Reset to defaults' }).click();
  await expect(page.getByRole('status')).toHaveText('VM types saved.');
  await expect(page.locator('table.catalogue tbody tr')).toHaveCount(20);
  await expect(page.getByRole('button', { name: 'Reset to defaults' })).toBeDisabled();
});

test('a stale save is refused and says what changed', async ({ page, browser }) => {
  await logIn(page);
  await openSection(page, 'director', 'Director Config');
  await control(page, 'director_configuration.canaries').fill('2');

  // Someone else saves first, from another session.
  const other = await browser.newPage();
  await logIn(other);
  await openSection(other, 'director', 'Director Config');
  await control(other, 'director_configuration.max_threads').fill('8');
  await save(other, 'Director settings saved.');
  await other.close();

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Nothing was saved: another operator changed this section');
  await expect(
    page.locator('.conflict li[data-reference="director_configuration.max_threads"] .change-text'),
  ).toHaveText('Max threads: changed by admin to 8');
  await expect(control(page, 'director_configuration.canaries')).toHaveValue('2');
});

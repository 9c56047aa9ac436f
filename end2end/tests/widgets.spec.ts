import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, Locator, Page, test } from '@playwright/test';
import {
  api,
  apiToken,
  logIn,
  packWidgetTile,
  selfSignedCertificate,
  stagedWidgetTile,
  waitForHydration,
  WIDGET_TILE,
} from './helpers';

// The widget tile (end2end/fixtures/widget-tile) has a property of every widget kind. Each test
// below drives one form of it: invalid input first (errors under the field, in the metadata's
// words; a failed save keeps every typed value), then valid input that saves and survives a
// reload.

/// The wrapper of one field (label, control, errors), by its reference.
function field(page: Page, reference: string): Locator {
  return page.locator(`.field[data-reference="${reference}"]`);
}

/// The errors shown directly under a field (not those of nested sub-fields).
function errorsOf(page: Page, reference: string): Locator {
  return field(page, reference).locator(':scope > .field-errors');
}

async function openForm(page: Page, guid: string, form: string) {
  await page.goto(`/products/${guid}/settings?form=${form}`);
  await waitForHydration(page, 'form.settings-form');
}

async function save(page: Page) {
  await page.getByRole('button', { name: 'Save' }).click();
}

const NOT_SAVED = 'Nothing was saved: fix the fields marked below.';

/// The navigation entry of a form, and whether it shows as complete.
function navMark(page: Page, label: string): Locator {
  return page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: label }).locator('.mark');
}

test.beforeEach(async ({ page }) => {
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
});

test('Import Product uploads a packed tile with a progress bar, and + stages it', async ({ page, request }) => {
  // Start from nothing, whatever ran before.
  const token = await apiToken(request);
  const staged = ((await api(request, token, 'GET', '/api/v0/staged/products')) as any[]).find(
    (p) => p.type === WIDGET_TILE.name,
  );
  if (staged) await api(request, token, 'DELETE', `/api/v0/staged/products/${staged.guid}`);
  const available = (await api(request, token, 'GET', '/api/v0/available_products')) as any[];
  if (available.some((p) => p.name === WIDGET_TILE.name)) {
    await api(request, token, 'DELETE', `/api/v0/available_products?product_name=${WIDGET_TILE.name}&version=${WIDGET_TILE.version}`);
  }

  // A few MB of release so the upload takes long enough to show progress under throttling.
  const file = packWidgetTile(3 * 1024 * 1024);
  await page.goto('/');
  await waitForHydration(page, '.dashboard-layout');
  await expect(page.locator(`li.available-product[data-product="${WIDGET_TILE.name}"]`)).toHaveCount(0);

  // Throttle the upload (1 MB/s) so the progress bar is seen at an intermediate value.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 1024 * 1024,
  });
  await page.getByLabel('Product file (.pivotal)').setInputFiles(file);
  await page.getByRole('button', { name: 'Import Product' }).click();
  const progress = page.getByRole('progressbar');
  await expect(progress).toBeVisible();
  // Part way: more than nothing, less than all.
  await expect(progress).toHaveAttribute('aria-valuenow', /^[1-9][0-9]?$/);
  await expect(progress).toContainText(/Uploading… [1-9][0-9]?%/);
  await page.screenshot({ path: '/tmp/e2e-import-progress.png' });
  // The stand-in release is no real tarball: the answer also warns that its job specs were not
  // checked (job-spec-warnings.spec.ts covers those warnings).
  await expect(page.getByRole('status')).toContainText('Product imported.', { timeout: 30_000 });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  rmSync(file, { force: true });

  const row = page.locator(`li.available-product[data-product="${WIDGET_TILE.name}"]`);
  await expect(row).toContainText(WIDGET_TILE.label);
  await expect(row).toContainText(WIDGET_TILE.version);
  await waitForHydration(page, '.dashboard-layout');
  await row.getByRole('button', { name: `Stage ${WIDGET_TILE.label} ${WIDGET_TILE.version}` }).click();

  const tile = page.locator(`a.tile[data-product="${WIDGET_TILE.name}"]`);
  await expect(tile).toBeVisible();
  await expect(tile).toHaveClass(/tile-incomplete/);
  await expect(tile).toContainText('Configuration required');
  await expect(page.locator('.tile-wrap', { has: tile }).locator('.tile-reasons li').first()).toContainText("can't be blank");
  await expect(row.locator('.staged-badge')).toHaveText('staged');
  await page.screenshot({ path: '/tmp/e2e-dashboard-staged.png', fullPage: true });

  // The tile leads to the product's settings, first form first.
  await tile.click();
  await expect(page).toHaveURL(/\/products\/e2e-widgets-[0-9a-f]+\/settings$/);
  await expect(page.getByRole('heading', { name: 'Basics' })).toBeVisible();
});

test('text widgets: string, text, integer, boolean, port, domain, email, ip_ranges', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await openForm(page, guid, 'basics');
  // Defaults show before anything is saved.
  await expect(page.getByLabel('Worker count')).toHaveValue('3');
  await expect(page.getByLabel('Listen port')).toHaveValue('8443');
  await expect(page.getByLabel('Verbose logging')).not.toBeChecked();

  const typed = {
    greeting: 'Hello World',
    motd: 'Welcome.\nSecond line.',
    workers: '12',
    port: '70000',
    domain: 'not a domain!',
    email: 'nobody-at-example',
    ips: '10.0.0.300',
  };
  await page.getByLabel('Greeting').fill(typed.greeting);
  await page.getByLabel('Message of the day').fill(typed.motd);
  await page.getByLabel('Worker count').fill(typed.workers);
  await page.getByLabel('Verbose logging').check();
  await page.getByLabel('Listen port').fill(typed.port);
  await page.getByLabel('Site domain').fill(typed.domain);
  await page.getByLabel('Administrator email').fill(typed.email);
  await page.getByLabel('Reserved IP ranges').fill(typed.ips);

  // Validated in the browser as the operator types.
  await expect(errorsOf(page, '.properties.greeting')).toHaveText('Use lower-case letters a to z only.');
  await expect(errorsOf(page, '.properties.worker_count')).toHaveText('Value must be less than or equal to 9');

  await save(page);
  await expect(page.getByRole('status')).toHaveText(NOT_SAVED);
  // The server's findings, in the metadata's (or the type's) words, under each field.
  await expect(errorsOf(page, '.properties.greeting')).toHaveText('Use lower-case letters a to z only.');
  await expect(errorsOf(page, '.properties.worker_count')).toHaveText('Value must be less than or equal to 9');
  await expect(errorsOf(page, '.properties.listen_port')).toHaveText('Value must be a port number between 0 and 65535');
  await expect(errorsOf(page, '.properties.site_domain')).toHaveText("'not a domain!' is not a valid domain");
  await expect(errorsOf(page, '.properties.admin_email')).toHaveText("'nobody-at-example' is not a valid email address");
  await expect(errorsOf(page, '.properties.reserved_ips')).toContainText("'10.0.0.300'");
  await expect(errorsOf(page, '.properties.motd')).toHaveCount(0);
  await expect(errorsOf(page, '.properties.verbose')).toHaveCount(0);
  // Every typed value is still in the form.
  await expect(page.getByLabel('Greeting')).toHaveValue(typed.greeting);
  await expect(page.getByLabel('Message of the day')).toHaveValue(typed.motd);
  await expect(page.getByLabel('Worker count')).toHaveValue(typed.workers);
  await expect(page.getByLabel('Verbose logging')).toBeChecked();
  await expect(page.getByLabel('Listen port')).toHaveValue(typed.port);
  await expect(page.getByLabel('Site domain')).toHaveValue(typed.domain);
  await expect(page.getByLabel('Administrator email')).toHaveValue(typed.email);
  await expect(page.getByLabel('Reserved IP ranges')).toHaveValue(typed.ips);
  await page.screenshot({ path: '/tmp/e2e-basics-invalid.png', fullPage: true });

  // A non-number in an integer field stays visible with its error.
  await page.getByLabel('Worker count').fill('lots');
  await expect(errorsOf(page, '.properties.worker_count')).toContainText('integer');
  await expect(page.getByLabel('Worker count')).toHaveValue('lots');

  // Nothing was stored: a fresh page shows the defaults again.
  await openForm(page, guid, 'basics');
  await expect(page.getByLabel('Greeting')).toHaveValue('');
  await expect(page.getByLabel('Worker count')).toHaveValue('3');
  await expect(navMark(page, 'Basics')).toHaveClass(/incomplete/);

  await page.getByLabel('Greeting').fill('hello');
  await page.getByLabel('Message of the day').fill(typed.motd);
  await page.getByLabel('Worker count').fill('9');
  await page.getByLabel('Verbose logging').check();
  await page.getByLabel('Listen port').fill('9443');
  await page.getByLabel('Site domain').fill('widgets.example.com');
  await page.getByLabel('Administrator email').fill('ops@example.com');
  await page.getByLabel('Reserved IP ranges').fill('10.0.0.1-10.0.0.9,10.0.1.5');
  await expect(page.locator('.field-errors')).toHaveCount(0);
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');
  await expect(navMark(page, 'Basics')).toHaveClass(/\bcomplete/);

  await openForm(page, guid, 'basics');
  await expect(page.getByLabel('Greeting')).toHaveValue('hello');
  await expect(page.getByLabel('Message of the day')).toHaveValue(typed.motd);
  await expect(page.getByLabel('Worker count')).toHaveValue('9');
  await expect(page.getByLabel('Verbose logging')).toBeChecked();
  await expect(page.getByLabel('Listen port')).toHaveValue('9443');
  await expect(page.getByLabel('Site domain')).toHaveValue('widgets.example.com');
  await expect(page.getByLabel('Administrator email')).toHaveValue('ops@example.com');
  await expect(page.getByLabel('Reserved IP ranges')).toHaveValue('10.0.0.1-10.0.0.9,10.0.1.5');
  await expect(navMark(page, 'Basics')).toHaveAttribute('title', 'complete');
  await page.screenshot({ path: '/tmp/e2e-basics-saved.png', fullPage: true });
});

test('list widgets: dropdown_select, multi_select_options, vm_type_dropdown, disk_type_dropdown', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await openForm(page, guid, 'choices');
  const flavor = page.getByLabel('Flavor');
  await expect(flavor.locator('option')).toHaveText(['Select…', 'Vanilla', 'Chocolate', 'Pistachio']);
  const vmType = page.getByLabel('Worker VM type');
  const diskType = page.getByLabel('Worker disk type');
  // The catalogues come from the Director's VM and disk types.
  await expect(vmType.locator('option', { hasText: 'micro' }).first()).toBeAttached();
  expect(await diskType.locator('option').count()).toBeGreaterThan(1);

  // Invalid: no flavor, no topping, a VM type below the tile's minimum RAM.
  await vmType.selectOption('nano');
  await diskType.selectOption('2048');
  await save(page);
  await expect(page.getByRole('status')).toHaveText(NOT_SAVED);
  await expect(errorsOf(page, '.properties.flavor')).toHaveText("can't be blank");
  await expect(errorsOf(page, '.properties.toppings')).toHaveText("can't be blank");
  await expect(errorsOf(page, '.properties.worker_vm_type')).toHaveText(
    "VM type 'nano' ram: Value must be greater than or equal to 1024",
  );
  await expect(errorsOf(page, '.properties.worker_disk_type')).toHaveCount(0);
  await expect(vmType).toHaveValue('nano');
  await expect(diskType).toHaveValue('2048');

  await flavor.selectOption({ label: 'Chocolate' });
  await page.getByLabel('Nuts').check();
  await page.getByLabel('Syrup').check();
  await page.getByLabel('Sprinkles').check();
  await page.getByLabel('Sprinkles').uncheck();
  await vmType.selectOption('small');
  await expect(page.locator('.field-errors')).toHaveCount(0);
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');

  await openForm(page, guid, 'choices');
  await expect(page.getByLabel('Flavor')).toHaveValue('chocolate');
  await expect(page.getByLabel('Nuts')).toBeChecked();
  await expect(page.getByLabel('Syrup')).toBeChecked();
  await expect(page.getByLabel('Sprinkles')).not.toBeChecked();
  await expect(page.getByLabel('Worker VM type')).toHaveValue('small');
  await expect(page.getByLabel('Worker disk type')).toHaveValue('2048');
  await expect(navMark(page, 'Choices')).toHaveAttribute('title', 'complete');
  await page.screenshot({ path: '/tmp/e2e-choices-saved.png', fullPage: true });
});

test('credential widgets are write-only: secret, simple_credentials, rsa_cert_credentials', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await openForm(page, guid, 'secrets');
  const { cert, key } = selfSignedCertificate('widgets.example.com');
  const token = 'a-long-enough-api-token-1234';
  const password = 'service-account-password-5678';
  const account = field(page, '.properties.service_account');
  const tls = field(page, '.properties.server_tls');

  // Invalid: a too short token, a password without a user name, a certificate that is not PEM.
  await page.getByLabel('API token').fill('short');
  await account.getByLabel('Password').fill(password);
  await tls.getByLabel('Certificate PEM').fill('not a certificate');
  await tls.getByLabel('Private key PEM').fill(key);
  await save(page);
  await expect(page.getByRole('status')).toHaveText(NOT_SAVED);
  await expect(errorsOf(page, '.properties.api_token')).toHaveText('The token needs at least 12 characters.');
  await expect(errorsOf(page, '.properties.service_account')).toHaveText("identity can't be blank");
  await expect(errorsOf(page, '.properties.server_tls')).toHaveText('cert_pem must be a PEM-encoded certificate');
  await expect(page.getByLabel('API token')).toHaveValue('short');
  await expect(account.getByLabel('Password')).toHaveValue(password);
  await expect(tls.getByLabel('Certificate PEM')).toHaveValue('not a certificate');
  await expect(tls.getByLabel('Private key PEM')).toHaveValue(key);

  await page.getByLabel('API token').fill(token);
  await account.getByLabel('Username').fill('svc-widgets');
  await tls.getByLabel('Certificate PEM').fill(cert);
  await expect(page.locator('.field-errors')).toHaveCount(0);
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');
  // Once saved, the page drops what was typed and shows the credentials as set.
  await expect(field(page, '.properties.api_token').locator('.secret-set')).toHaveText('✓ set');
  await expect(page.getByLabel('API token')).toHaveValue('');
  await expect(account.getByLabel('Password')).toHaveValue('');

  // A fresh page never carries the secrets: not in the HTML, not in the controls.
  await openForm(page, guid, 'secrets');
  const html = await page.content();
  for (const secret of [token, password, key.split('\n')[1]]) {
    expect(html).not.toContain(secret);
  }
  await expect(page.getByLabel('API token')).toHaveValue('');
  await expect(field(page, '.properties.api_token').locator('.secret-set')).toHaveText('✓ set');
  await expect(page.getByLabel('API token')).toHaveAttribute('placeholder', /set/);
  await expect(account.getByLabel('Password')).toHaveValue('');
  await expect(account.getByLabel('Password')).toHaveAttribute('placeholder', /set/);
  await expect(tls.getByLabel('Private key PEM')).toHaveValue('');
  await expect(tls.getByLabel('Private key PEM')).toHaveAttribute('placeholder', /set/);
  // The API masks every field of a credential; the mask is never shown as if it were the value.
  await expect(account.getByLabel('Username')).toHaveValue('');
  await expect(account.getByLabel('Username')).toHaveAttribute('placeholder', /set/);
  await expect(tls.getByLabel('Certificate PEM')).toHaveValue('');
  await expect(tls.getByLabel('Certificate PEM')).toHaveAttribute('placeholder', /set/);
  await expect(navMark(page, 'Secrets')).toHaveAttribute('title', 'complete');
  await page.screenshot({ path: '/tmp/e2e-secrets-saved.png', fullPage: true });

  // Saving again without touching the credentials keeps them, and the browser raises no error
  // on the masks. The save is held back until the page has shown every error it has.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/_app/save_settings_form', async (route) => {
    await held;
    await route.continue();
  });
  await save(page);
  await expect(page.getByRole('button', { name: 'Saving…' })).toBeDisabled();
  await expect(page.locator('.field-errors')).toHaveCount(0);
  release();
  await expect(page.getByRole('status')).toHaveText('Settings saved.');
  await page.unroute('**/_app/save_settings_form');
  const properties = await api(
    request,
    await apiToken(request),
    'GET',
    `/api/v0/staged/products/${guid}/properties?redact=false`,
  );
  expect(properties.properties['.properties.api_token'].value).toEqual({ secret: token });
  expect(properties.properties['.properties.service_account'].value).toEqual({ identity: 'svc-widgets', password });
  expect(properties.properties['.properties.server_tls'].value.private_key_pem.trim()).toBe(key.trim());
});

test('selector: the chosen option shows its sub-form, and only its fields are validated', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await openForm(page, guid, 'storage');
  const local = page.getByRole('radio', { name: 'Local disk' });
  const bucket = page.getByRole('radio', { name: 'Object store bucket' });
  // The default option is selected, with its sub-form.
  await expect(local).toBeChecked();
  await expect(page.locator('fieldset.selector-option[data-option="local"]')).toBeVisible();
  await expect(page.getByLabel('Endpoint domain')).toHaveCount(0);

  // The local option's directory is invalid…
  await page.getByLabel('Directory').fill('relative/path');
  await expect(errorsOf(page, '.properties.storage.local.path')).toHaveText('The directory must be an absolute path.');
  // …but choosing the bucket option replaces the sub-form and validates only the bucket fields.
  await bucket.check();
  await expect(page.locator('fieldset.selector-option[data-option="bucket"]')).toBeVisible();
  await expect(page.getByLabel('Directory')).toHaveCount(0);
  await page.getByLabel('Endpoint domain').fill('bad domain');
  await save(page);
  await expect(page.getByRole('status')).toHaveText(NOT_SAVED);
  await expect(errorsOf(page, '.properties.storage.bucket.endpoint')).toHaveText("'bad domain' is not a valid domain");
  await expect(errorsOf(page, '.properties.storage.bucket.bucket_name')).toHaveText("can't be blank");
  await expect(page.locator('.field-errors')).toHaveCount(2);
  await expect(page.getByLabel('Endpoint domain')).toHaveValue('bad domain');
  await expect(bucket).toBeChecked();
  await page.screenshot({ path: '/tmp/e2e-selector-invalid.png', fullPage: true });

  // Going back to the local option shows what was typed there.
  await local.check();
  await expect(page.getByLabel('Directory')).toHaveValue('relative/path');
  await bucket.check();
  await expect(page.getByLabel('Endpoint domain')).toHaveValue('bad domain');

  await page.getByLabel('Endpoint domain').fill('s3.example.com');
  await page.getByLabel('Bucket name').fill('widgets');
  // The local directory is still invalid, but not selected: it does not block the save.
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');

  await openForm(page, guid, 'storage');
  await expect(page.getByRole('radio', { name: 'Object store bucket' })).toBeChecked();
  await expect(page.getByLabel('Endpoint domain')).toHaveValue('s3.example.com');
  await expect(page.getByLabel('Bucket name')).toHaveValue('widgets');
  await expect(navMark(page, 'Storage')).toHaveAttribute('title', 'complete');
});

test('collection: records are added, validated, reordered and removed', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  await openForm(page, guid, 'routes');
  const records = page.locator('.collection .record');
  // Start empty (an earlier run of this test may have left records).
  while ((await records.count()) > 0) {
    const before = await records.count();
    await records.first().getByRole('button', { name: 'Remove' }).click();
    await expect(records).toHaveCount(before - 1);
  }

  const add = page.getByRole('button', { name: 'Add' });
  for (const [i, [name, port]] of [['alpha', '8001'], ['bravo', '99999'], ['charlie', '8003']].entries()) {
    await add.click();
    await expect(records).toHaveCount(i + 1);
    await records.nth(i).getByLabel('Route name').fill(name);
    await records.nth(i).getByLabel('Route port').fill(port);
  }
  await save(page);
  await expect(page.getByRole('status')).toHaveText(NOT_SAVED);
  await expect(errorsOf(page, '.properties.routes[1].route_port')).toHaveText('Value must be a port number between 0 and 65535');
  await expect(records.nth(1).getByLabel('Route port')).toHaveValue('99999');
  await page.screenshot({ path: '/tmp/e2e-collection-invalid.png', fullPage: true });

  await records.nth(1).getByLabel('Route port').fill('8002');
  await expect(page.locator('.field-errors')).toHaveCount(0);
  // Reorder: charlie to the top, then remove bravo.
  await records.nth(2).getByRole('button', { name: 'Move up' }).click();
  await records.nth(1).getByRole('button', { name: 'Move up' }).click();
  await expect(records.nth(0).getByLabel('Route name')).toHaveValue('charlie');
  await expect(records.nth(1).getByLabel('Route name')).toHaveValue('alpha');
  await expect(records.nth(2).getByLabel('Route name')).toHaveValue('bravo');
  await expect(records.nth(0).getByRole('button', { name: 'Move up' })).toBeDisabled();
  await expect(records.nth(2).getByRole('button', { name: 'Move down' })).toBeDisabled();
  await records.nth(2).getByRole('button', { name: 'Remove' }).click();
  await expect(records).toHaveCount(2);
  await records.nth(0).getByRole('button', { name: 'Move down' }).click();
  await expect(records.nth(0).getByLabel('Route name')).toHaveValue('alpha');
  await expect(records.nth(1).getByLabel('Route name')).toHaveValue('charlie');
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');

  await openForm(page, guid, 'routes');
  await expect(records).toHaveCount(2);
  await expect(records.nth(0).getByLabel('Route name')).toHaveValue('alpha');
  await expect(records.nth(0).getByLabel('Route port')).toHaveValue('8001');
  await expect(records.nth(1).getByLabel('Route name')).toHaveValue('charlie');
  await expect(records.nth(1).getByLabel('Route port')).toHaveValue('8003');
  await page.screenshot({ path: '/tmp/e2e-collection-saved.png', fullPage: true });
});

/// A stemcell tarball holding only its `stemcell.MF` (the library reads nothing else), made with
/// tar for this run.
function stemcellTarball(os: string, version: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-stemcell-'));
  writeFileSync(
    path.join(dir, 'stemcell.MF'),
    `name: bosh-vsphere-esxi-${os}-go_agent\nversion: '${version}'\noperating_system: ${os}\n` +
      'api_version: 3\ncloud_properties:\n  infrastructure: vsphere\n  hypervisor: esxi\n',
  );
  const file = path.join(tmpdir(), `e2e-stemcell-${os}-${process.pid}.tgz`);
  execFileSync('tar', ['czf', file, '-C', dir, 'stemcell.MF'], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
  return file;
}

test('more kinds: string_list, http_url, ldap_url, ca_certificate, salted and rsa_pkey credentials, stemcell selector', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  const token = await apiToken(request);
  await openForm(page, guid, 'more');
  const { cert, key } = selfSignedCertificate('widgets.example.com');
  const operators = field(page, '.properties.operators');
  const signing = field(page, '.properties.signing_key');
  const os = page.getByLabel('Worker stemcell');
  // Only OSes of the tile's criteria with an imported stemcell: the bundled tiles' Ubuntu one,
  // not Windows (none imported yet).
  await expect(os.locator('option')).toHaveText(['Select…', /^ubuntu-xenial \(stemcell [0-9.]*97\.17/]);

  const typed = {
    hosts: 'Bad Host!, b',
    callback: 'http://callback.example.com/hook',
    directory: 'http://ldap.example.com',
    ca: 'not a certificate',
    password: 'operator-password-1234',
    signing: 'not a key',
  };
  await page.getByLabel('Allowed hosts').fill(typed.hosts);
  await page.getByLabel('Callback URL').fill(typed.callback);
  await page.getByLabel('Directory URL').fill(typed.directory);
  await page.getByLabel('Trusted CA certificate').fill(typed.ca);
  await operators.getByLabel('Password').fill(typed.password);
  await signing.getByLabel('Private key PEM').fill(typed.signing);
  await save(page);
  await expect(page.getByRole('status')).toHaveText(NOT_SAVED);
  // The metadata's messages where it has constraints, the type's otherwise.
  await expect(errorsOf(page, '.properties.allowed_hosts')).toHaveText('List host names separated by commas.');
  await expect(errorsOf(page, '.properties.callback_url')).toHaveText('The callback must use https.');
  await expect(errorsOf(page, '.properties.directory_url')).toHaveText(
    "'http://ldap.example.com' is not a valid LDAP URL (ldap:// or ldaps://)",
  );
  await expect(errorsOf(page, '.properties.trusted_ca')).toHaveText('Value must be a PEM-encoded certificate');
  // The salt is generated: only the missing user name is reported.
  await expect(errorsOf(page, '.properties.operators')).toHaveText("identity can't be blank");
  await expect(errorsOf(page, '.properties.signing_key')).toHaveText('private_key_pem must be a PEM-encoded private key');
  await expect(errorsOf(page, '.properties.worker_os')).toHaveText("can't be blank");
  // Every typed value is still there.
  await expect(page.getByLabel('Allowed hosts')).toHaveValue(typed.hosts);
  await expect(page.getByLabel('Callback URL')).toHaveValue(typed.callback);
  await expect(page.getByLabel('Directory URL')).toHaveValue(typed.directory);
  await expect(page.getByLabel('Trusted CA certificate')).toHaveValue(typed.ca);
  await expect(operators.getByLabel('Password')).toHaveValue(typed.password);
  await expect(signing.getByLabel('Private key PEM')).toHaveValue(typed.signing);
  await page.screenshot({ path: '/tmp/e2e-more-invalid.png', fullPage: true });

  await page.getByLabel('Allowed hosts').fill('a.example.com, b.example.com');
  await page.getByLabel('Callback URL').fill('https://callback.example.com/hook');
  await page.getByLabel('Directory URL').fill('ldaps://ldap.example.com:636');
  await page.getByLabel('Trusted CA certificate').fill(cert);
  await operators.getByLabel('Username').fill('operator');
  await signing.getByLabel('Private key PEM').fill(key);
  await os.selectOption('ubuntu-xenial');
  await expect(page.locator('.field-errors')).toHaveCount(0);
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');

  await openForm(page, guid, 'more');
  await expect(page.getByLabel('Allowed hosts')).toHaveValue('a.example.com, b.example.com');
  await expect(page.getByLabel('Callback URL')).toHaveValue('https://callback.example.com/hook');
  await expect(page.getByLabel('Directory URL')).toHaveValue('ldaps://ldap.example.com:636');
  await expect(page.getByLabel('Trusted CA certificate')).toHaveValue(cert);
  await expect(field(page, '.properties.operators').getByLabel('Password')).toHaveAttribute('placeholder', /set/);
  await expect(field(page, '.properties.signing_key').getByLabel('Private key PEM')).toHaveAttribute('placeholder', /set/);
  await expect(page.getByLabel('Worker stemcell')).toHaveValue('ubuntu-xenial');
  await expect(navMark(page, 'More kinds')).toHaveAttribute('title', 'complete');
  expect(await page.content()).not.toContain(key.split('\n')[1]);
  const stored = (await api(request, token, 'GET', `/api/v0/staged/products/${guid}/properties?redact=false`)).properties;
  expect(stored['.properties.operators'].value.identity).toBe('operator');
  expect(stored['.properties.operators'].value.password).toBe(typed.password);
  expect(stored['.properties.operators'].value.salt).toMatch(/^[0-9a-f]{16}$/);
  expect(stored['.properties.signing_key'].value.private_key_pem.trim()).toBe(key.trim());

  // A stored OS without an imported stemcell stays chosen (and says so); importing one makes it
  // a regular choice.
  await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, {
    properties: { '.properties.worker_os': { value: 'windows2019' } },
  });
  await openForm(page, guid, 'more');
  await expect(page.getByLabel('Worker stemcell')).toHaveValue('windows2019');
  await expect(page.getByLabel('Worker stemcell').locator('option:checked')).toHaveText(
    'windows2019 (no matching stemcell imported)',
  );
  const tarball = stemcellTarball('windows2019', '2019.7');
  const upload = await request.post('/api/v0/stemcells', {
    headers: { authorization: `Bearer ${token}` },
    multipart: {
      'stemcell[file]': { name: path.basename(tarball), mimeType: 'application/gzip', buffer: readFileSync(tarball) },
    },
  });
  expect(upload.ok(), await upload.text()).toBe(true);
  rmSync(tarball, { force: true });
  await openForm(page, guid, 'more');
  await expect(page.getByLabel('Worker stemcell').locator('option:checked')).toHaveText('windows2019 (stemcell 2019.7)');
  await page.getByLabel('Worker stemcell').selectOption('ubuntu-xenial');
  await save(page);
  await expect(page.getByRole('status')).toHaveText('Settings saved.');
});

test('rsa_cert_credentials: Generate makes a certificate signed by the root CA; the key stays on the server', async ({ page, request }) => {
  // A freshly staged copy (earlier tests stored a certificate): everything on the form is
  // valid except the certificate, which is missing. Generate alone completes the form, and the
  // navigation's mark follows without a reload.
  const token = await apiToken(request);
  await api(request, token, 'DELETE', `/api/v0/staged/products/${await stagedWidgetTile(request)}`);
  const guid = await stagedWidgetTile(request);
  await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, {
    properties: {
      '.properties.api_token': { value: { secret: 'stored-before-generating-1234' } },
      '.properties.service_account': { value: { identity: 'svc-before', password: 'stored-before-generating-5678' } },
    },
  });
  await openForm(page, guid, 'secrets');
  const secretsMark = page.locator('nav li', { hasText: 'Secrets' }).locator('.mark');
  await expect(secretsMark).toHaveAttribute('title', 'needs configuration');
  const tls = field(page, '.properties.server_tls');
  const tokenValue = 'typed-before-generating-1234';
  await page.getByLabel('API token').fill(tokenValue);
  const account = field(page, '.properties.service_account');
  await account.getByLabel('Username').fill('svc-generate');
  await account.getByLabel('Password').fill('service-account-password-9999');

  await tls.getByRole('button', { name: 'Generate RSA Certificate' }).click();
  const domains = tls.getByLabel('Domains to secure (comma-separated, wildcards like *.example.com allowed)');
  await domains.fill('*.apps.example.com, not a domain!');
  await tls.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(tls.locator('.generate-errors')).toHaveText(
    "'not a domain!' is not a valid domain (wildcards like *.example.com are allowed)",
  );
  // Nothing was generated; what was typed is still there.
  await expect(domains).toHaveValue('*.apps.example.com, not a domain!');
  await expect(page.getByLabel('API token')).toHaveValue(tokenValue);

  await domains.fill('*.apps.example.com, api.example.com');
  await tls.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(tls.getByRole('status')).toHaveText('Certificate generated and saved (its private key stays on the server).');
  const shown = await tls.getByLabel('Certificate PEM').inputValue();
  expect(shown).toContain('-----BEGIN CERTIFICATE-----');
  await expect(tls.getByLabel('Private key PEM')).toHaveValue('');
  await expect(tls.getByLabel('Private key PEM')).toHaveAttribute('placeholder', /set/);
  await expect(page.getByLabel('API token')).toHaveValue(tokenValue);
  await expect(secretsMark).toHaveAttribute('title', 'complete');
  await expect(secretsMark).toHaveText('✓');
  await page.screenshot({ path: '/tmp/e2e-generate-cert.png', fullPage: true });

  // What was stored: that certificate, for those domains, signed by the root CA, with its key —
  // which the page never held.
  const stored = (
    await api(request, await apiToken(request), 'GET', `/api/v0/staged/products/${guid}/properties?redact=false`)
  ).properties['.properties.server_tls'].value;
  expect(stored.cert_pem.trim()).toBe(shown.trim());
  expect(stored.private_key_pem).toContain('PRIVATE KEY-----');
  expect(await page.content()).not.toContain(stored.private_key_pem.split('\n')[1]);
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-generated-'));
  writeFileSync(path.join(dir, 'cert.pem'), shown);
  const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', path.join(dir, 'cert.pem')]).toString();
  rmSync(dir, { recursive: true, force: true });
  expect(text).toContain('DNS:*.apps.example.com');
  expect(text).toContain('DNS:api.example.com');
  expect(text).toContain('Tileworks Root Certificate Authority');

  // The form saves on top of the generated certificate (the page follows the new version).
  await save(page);
  await expect(page.locator('.form-actions').getByRole('status')).toHaveText('Settings saved.');
  await expect(field(page, '.properties.api_token').locator('.secret-set')).toHaveText('✓ set');
});

test('AZ single-select on Assign AZs and Networks: a blank choice is refused under the field, choices kept', async ({ page, request }) => {
  const guid = await stagedWidgetTile(request);
  const token = await apiToken(request);
  // The Director needs AZs and a network to choose from: add ours to whatever it has.
  const current = (await api(request, token, 'GET', '/api/v0/staged/director/availability_zones')).availability_zones as any[];
  const have = new Set(current.map((az) => az.name));
  const ours = ['widgets-az1', 'widgets-az2'].filter((n) => !have.has(n));
  if (ours.length) {
    await api(request, token, 'PUT', '/api/v0/staged/director/availability_zones', {
      availability_zones: [...current, ...ours.map((name) => ({ name }))],
    });
  }
  const networks = ((await api(request, token, 'GET', '/api/v0/staged/director/networks')).networks ?? []) as any[];
  if (!networks.some((n) => n.name === 'widgets-net')) {
    await api(request, token, 'PUT', '/api/v0/staged/director/networks', {
      networks: [
        ...networks,
        {
          name: 'widgets-net',
          subnets: [{
            iaas_identifier: 'widgets-net', cidr: '10.0.201.0/24', gateway: '10.0.201.1', dns: '10.0.0.2',
            reserved_ip_ranges: '10.0.201.1-10.0.201.9', availability_zone_names: ['widgets-az1', 'widgets-az2'],
          }],
        },
      ],
    });
  }

  await page.goto(`/products/${guid}/settings?section=azs`);
  await expect(page.getByRole('heading', { name: 'Assign AZs and Networks', level: 2 })).toBeVisible();
  await waitForHydration(page, 'form.placement');
  const singleton = page.locator('#singleton_az');
  await expect(singleton.locator('option', { hasText: 'widgets-az1' })).toBeAttached();
  await singleton.selectOption('');
  await page.locator('#balance_widgets-az2').check();
  await page.locator('#network').selectOption('widgets-net');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Nothing was saved: fix the fields marked below.')).toBeVisible();
  await expect(page.locator('.field', { has: singleton }).getByRole('alert')).toHaveText("can't be blank");
  await expect(page.locator('#balance_widgets-az2')).toBeChecked();
  await expect(page.locator('#network')).toHaveValue('widgets-net');

  await singleton.selectOption('widgets-az1');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await page.reload();
  await waitForHydration(page, 'form.placement');
  await expect(page.locator('#singleton_az')).toHaveValue('widgets-az1');
  await expect(page.locator('#balance_widgets-az2')).toBeChecked();
});

import { expect, Page, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ADMIN, api, apiToken, applyChangesAndWait, logIn, makePksDeployable, OwnTileworks, packWidgetTile,
  selfSignedCertificate, startOwnTileworks, WIDGET_TILE,
} from './helpers';

// The pages operators look for (issue 13): the Stemcell Library, the Settings menu, and the
// embedded IaaS the Director tile starts on. The library spec imports and pins stemcells, so it
// runs on a Tileworks of its own; the others only read.

async function logInAt(page: Page, base: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`^${base}/?$`));
}

/// A stemcell `.tgz` as the upload API reads it (a `stemcell.MF` and an image), made with tar.
function stemcellTarball(os: string, version: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-stemcell-'));
  writeFileSync(
    path.join(dir, 'stemcell.MF'),
    `name: bosh-vsphere-esxi-${os}-go_agent\nversion: '${version}'\nbosh_protocol: 1\n` +
      `api_version: 3\noperating_system: ${os}\nstemcell_formats: [vsphere-ova]\n` +
      `cloud_properties:\n  infrastructure: vsphere\n  hypervisor: esxi\n`,
  );
  writeFileSync(path.join(dir, 'image'), Buffer.alloc(4096, 7));
  const file = path.join(tmpdir(), `bosh-stemcell-${version}-vsphere-esxi-${os}-go_agent-${process.pid}.tgz`);
  execFileSync('tar', ['-czf', file, '-C', dir, 'stemcell.MF', 'image']);
  rmSync(dir, { recursive: true, force: true });
  return file;
}

test.describe('on a Tileworks of its own', () => {
  let own: OwnTileworks;
  test.beforeAll(async () => {
    own = await startOwnTileworks('stemcells');
  });
  test.afterAll(() => own?.stop());

  test('lists stemcells and needs, imports a stemcell and assigns it', async ({ page, request }) => {
    const base = own.baseURL;
    // The widget tile (ubuntu-xenial 97.17 or a later patch) staged through the API.
    const tokenReply = await request.post(`${base}/uaa/oauth/token`, {
      headers: { authorization: `Basic ${Buffer.from('opsman:').toString('base64')}` },
      form: { grant_type: 'password', username: ADMIN.username, password: ADMIN.password(), client_id: 'opsman' },
    });
    const token = (await tokenReply.json()).access_token;
    const tile = packWidgetTile();
    const upload = await request.post(`${base}/api/v0/available_products`, {
      headers: { authorization: `Bearer ${token}` },
      multipart: {
        'product[file]': { name: path.basename(tile), mimeType: 'application/octet-stream', buffer: readFileSync(tile) },
      },
    });
    expect(upload.ok(), await upload.text()).toBe(true);
    rmSync(tile, { force: true });
    const staged = await request.post(`${base}/api/v0/staged/products`, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      data: JSON.stringify({ name: WIDGET_TILE.name, product_version: WIDGET_TILE.version }),
    });
    expect(staged.ok(), await staged.text()).toBe(true);

    await logInAt(page, base);
    await page.getByRole('link', { name: 'Stemcell Library' }).click();
    await expect(page).toHaveURL(`${base}/stemcells`);
    await expect(page.locator('main.stemcells')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
    // The light stemcell the first start imported for the bundled tiles, used by the widget tile.
    const light = page.locator('tr[data-stemcell="ubuntu-xenial 97.17"]');
    await expect(light).toContainText('light (manifest only)');
    await expect(light.locator('.used-by')).toContainText(WIDGET_TILE.label);
    const need = page.locator('table.stemcell-needs tr[data-os="ubuntu-xenial"]').filter({ hasText: WIDGET_TILE.label });
    await expect(need).toContainText('ubuntu-xenial 97.17 or a later patch');
    await expect(need.locator('.staged')).toHaveText('ubuntu-xenial 97.17');

    // Import a later patch through the page (the streaming upload API): listed, and offered.
    const file = stemcellTarball('ubuntu-xenial', '97.19');
    await page.getByLabel('Stemcell file (.tgz)').setInputFiles(file);
    await page.getByRole('button', { name: 'Import Stemcell' }).click();
    await expect(page.getByRole('status')).toHaveText('Stemcell imported.');
    rmSync(file, { force: true });
    await expect(page.locator('tr[data-stemcell="ubuntu-xenial 97.19"]')).toContainText('full');

    // Pin 97.17 back, then 97.19: each assignment shows at once.
    await need.getByLabel('ubuntu-xenial version').selectOption('97.17');
    await need.getByRole('button', { name: 'Assign' }).click();
    await expect(page.getByRole('status')).toHaveText('ubuntu-xenial 97.17 assigned.');
    await expect(need.locator('.staged')).toHaveText('ubuntu-xenial 97.17');
    await need.getByLabel('ubuntu-xenial version').selectOption('97.19');
    await need.getByRole('button', { name: 'Assign' }).click();
    await expect(page.getByRole('status')).toHaveText('ubuntu-xenial 97.19 assigned.');
    await expect(need.locator('.staged')).toHaveText('ubuntu-xenial 97.19');
    await expect(page.locator('tr[data-stemcell="ubuntu-xenial 97.19"] .used-by')).toContainText(WIDGET_TILE.label);
  });

  test('the Director tile starts on the embedded IaaS, which asks for no credentials', async ({ page }) => {
    await logInAt(page, own.baseURL);
    await page.goto(`${own.baseURL}/director?section=iaas`);
    await expect(page.locator('main.director')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
    await expect(page.getByLabel('Embedded (simulated)')).toBeChecked();
    await expect(page.locator('.embedded-hint')).toContainText('needs no cloud credentials');
    await expect(page.locator('[data-field="iaas_configuration.vcenter_host"]')).toHaveCount(0);
    await expect(page.locator('.settings-nav li[data-section="iaas"] .mark')).toHaveClass(/\bcomplete\b/);
    // Choosing vSphere shows its essentials (not saved).
    await page.getByLabel('vSphere').check();
    await expect(page.locator('[data-field="iaas_configuration.vcenter_host"]')).toBeVisible();
    await expect(page.locator('.embedded-hint')).toHaveCount(0);
  });

  test('the Director sections Security, Syslog and Resource Config save and land in its manifest', async ({ page }) => {
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    const base = own.baseURL;
    await logInAt(page, base);
    const hydrated = async () =>
      expect(page.locator('main.director')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });

    // Security: a bad certificate is refused under its field (the page again, the text kept);
    // a real one is saved.
    await page.goto(`${base}/director?section=security`);
    await hydrated();
    await expect(page.getByRole('heading', { level: 2, name: 'Security' })).toBeVisible();
    await page.getByLabel('Trusted Certificates', { exact: true }).fill('not a certificate');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.locator('[data-error-for="security_configuration.trusted_certificates"]')).toBeVisible();
    await expect(page.getByLabel('Trusted Certificates', { exact: true })).toHaveValue('not a certificate');
    await hydrated();
    const { cert } = selfSignedCertificate('trusted.example.com');
    await page.getByLabel('Trusted Certificates', { exact: true }).fill(cert);
    await page.getByLabel('Include the Tileworks root CA in Trusted Certificates').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Settings saved.');
    await expect(page.getByLabel('Trusted Certificates', { exact: true })).toHaveValue(cert.trim());

    // Syslog: on, to a UDP server.
    await page.locator('.settings-nav li[data-section="syslog"] a').click();
    await expect(page).toHaveURL(/section=syslog/);
    await expect(page.getByRole('heading', { level: 2, name: 'Syslog' })).toBeVisible();
    await page.getByLabel('Yes').check();
    await page.getByLabel('Address').fill('logs.example.com');
    await page.getByLabel('Port', { exact: true }).fill('514');
    await page.getByLabel('Transport protocol').selectOption('udp');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Settings saved.');
    await expect(page.getByLabel('Address')).toHaveValue('logs.example.com');

    // Resource Config: automatic says what it is; the Director VM gets xlarge and 100 GB.
    await page.goto(`${base}/director?section=resource-config`);
    await hydrated();
    const directorVm = page.getByLabel('BOSH Director VM type');
    await expect(directorVm.locator('option[value="automatic"]')).toHaveText(/^Automatic: large\.disk \(\d+ CPU, [\d.]+ GB RAM, [\d.]+ GB disk\)$/);
    await directorVm.selectOption('xlarge');
    await page.getByLabel('BOSH Director persistent disk').selectOption('102400');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Settings saved.');
    await expect(directorVm).toHaveValue('xlarge');

    const tokenReply = await page.request.post(`${base}/uaa/oauth/token`, {
      headers: { authorization: `Basic ${Buffer.from('opsman:').toString('base64')}` },
      form: { grant_type: 'password', username: ADMIN.username, password: ADMIN.password(), client_id: 'opsman' },
    });
    const token = (await tokenReply.json()).access_token;
    const manifest = (await api(page.request, token, 'GET', `${base}/api/v0/staged/director/manifest`)).manifest;
    const group = manifest.instance_groups[0];
    expect(group.vm_type).toBe('xlarge');
    expect(group.persistent_disk).toBe(102400);
    const director = group.jobs.find((j: any) => j.name === 'director').properties.director;
    expect(director.trusted_certs).toContain(cert.trim().split('\n')[1]);
    const syslog = group.jobs.find((j: any) => j.name === 'syslog_forwarder').properties.syslog;
    expect(syslog).toMatchObject({ address: 'logs.example.com', port: 514, transport: 'udp' });
    expect(consoleErrors).toEqual([]);
  });

  test('a deployed product says Deployed or Pending changes and offers Delete', async ({ browser }) => {
    test.setTimeout(240_000);
    const context = await browser.newContext({ baseURL: own.baseURL });
    const page = await context.newPage();
    const request = page.request;
    const token = await apiToken(request);
    const guid = await makePksDeployable(request, token);
    // The library spec staged the widget tile here and left it unconfigured; Apply Changes
    // deploys every staged product, so it goes first.
    const staged = await api(request, token, 'GET', '/api/v0/staged/products');
    for (const widget of staged.filter((p: any) => p.type === WIDGET_TILE.name)) {
      await api(request, token, 'DELETE', `/api/v0/staged/products/${widget.guid}`);
    }
    await logIn(page);
    const tile = page.locator(`.tile[data-guid="${guid}"]`);
    const wrap = page.locator('.tile-wrap').filter({ has: tile });
    // Never deployed: Unstage, no deploy state.
    await expect(wrap.getByRole('button', { name: /^Unstage/ })).toBeVisible();
    await expect(tile.locator('.tile-deployed')).toHaveCount(0);

    await applyChangesAndWait(request, token);
    await page.reload();
    await expect(tile.locator('.tile-deployed')).toHaveText('Deployed');
    await expect(wrap.getByRole('button', { name: /^Delete/ })).toBeVisible();
    await expect(wrap.getByRole('button', { name: /^Unstage/ })).toHaveCount(0);

    // A change after the deploy: Pending changes.
    await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, {
      properties: { '.properties.worker_max_in_flight': { value: 2 } },
    });
    await page.reload();
    await expect(tile.locator('.tile-deployed')).toHaveText('Pending changes');

    // Delete stages the deletion for Apply Changes; the tile stays until then and says so.
    await expect(page.locator('.dashboard-layout')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
    await wrap.getByRole('button', { name: /^Delete/ }).click();
    await expect(tile.locator('.tile-deployed')).toHaveText('Deletion staged: Apply Changes deletes it');
    await expect(wrap.getByRole('button', { name: /^Delete/ })).toHaveCount(0);
    const pending = await api(request, token, 'GET', '/api/v0/staged/pending_changes');
    expect(pending.product_changes.find((p: any) => p.guid === guid).action).toBe('delete');
    await context.close();
  });
});

test.describe('without the script', () => {
  test.use({ javaScriptEnabled: false });

  test('the Stemcell Library and the Settings menu are whole on the server', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto('/stemcells');
    await expect(page.getByRole('heading', { level: 1, name: 'Stemcell Library' })).toBeVisible();
    await expect(page.locator('table.stemcells-table tbody tr').first()).toBeVisible();
    await page.goto('/settings');
    await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
    await expect(page.locator('ul.settings-menu a[href="/users"]')).toHaveText('Users');
  });

  test('the Director sections post without the script and show refusals per field', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto('/director?section=syslog');
    await expect(page.getByRole('heading', { level: 2, name: 'Syslog' })).toBeVisible();
    await page.getByLabel('Yes').check();
    await page.getByLabel('Address').fill('logs here!');
    await page.getByLabel('Port', { exact: true }).fill('70000');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.locator('[data-error-for="syslog_configuration.port"]')).toHaveText('must be a port from 1 to 65535');
    await expect(page.locator('[data-error-for="syslog_configuration.address"]')).toContainText('is not a host name or IP address');
    await expect(page.getByLabel('Port', { exact: true })).toHaveValue('70000');
    // Nothing was saved: the section opens again without the refused values.
    await page.goto('/director?section=syslog');
    await expect(page.getByLabel('Port', { exact: true })).toHaveValue('');
  });
});

test('the Settings menu links what exists and says what does not', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.topbar').getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  const menu = page.locator('ul.settings-menu');
  // Other changes append entries; these six are always there.
  await expect(menu.locator('li').nth(5)).toBeVisible();
  await expect(menu.locator('a[href="/users"]')).toHaveText('Users');
  await expect(menu.locator('a[href="/audit"]')).toHaveText('Audit trail');
  // Each other entry is a link when its page exists, else says it is not available.
  for (const href of ['/settings/certificate-authorities', '/settings/ssl-certificate', '/settings/vm-extensions', '/settings/decryption-passphrase']) {
    const item = menu.locator(`li[data-href="${href}"]`);
    const linked = await item.locator('a').count();
    if (linked === 0) await expect(item.locator('.not-available')).toHaveText('(not available in this version)');
    else await expect(item.locator('a')).toHaveAttribute('href', href);
  }
  await menu.locator('a[href="/users"]').click();
  await expect(page).toHaveURL(/\/users$/);
});

test('a refused CA form answers with the page again, the rule beside the form, and hydrates', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // The 422 itself is logged as a failed load; anything else (a hydration panic) is not.
    if (m.type() === 'error' && !m.text().includes('status of 422')) errors.push(m.text());
  });
  await page.goto('/login');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto('/settings/certificate-authorities');
  await expect(page.getByRole('heading', { level: 1, name: 'Certificate authorities' })).toBeVisible();
  await page.getByLabel('Certificate (PEM)').fill('not a certificate');
  await page.getByLabel('Private key (PEM)').fill('not a key');
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/settings/certificate-authorities'));
  await page.getByRole('button', { name: 'Import CA' }).click();
  expect((await answer).status()).toBe(422);
  await expect(page).toHaveURL(/\/settings\/certificate-authorities$/);
  await expect(page.locator('.form-error[data-form="import"]')).toHaveAttribute('data-field', 'cert_pem');
  await expect(page.getByLabel('Certificate (PEM)')).toHaveValue('not a certificate');
  await expect(page.getByLabel('Private key (PEM)')).toHaveValue('');
  await page.waitForLoadState('networkidle');
  expect(errors).toEqual([]);
});

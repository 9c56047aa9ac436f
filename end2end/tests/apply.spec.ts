import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APIRequestContext, expect, request as playwrightRequest, test } from '@playwright/test';
import { api, apiToken, logIn, selfSignedCertificate } from './helpers';

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

const PKS = 'pivotal-container-service';
const PASSWORD = () => process.env.TILEWORKS_ADMIN_PASSWORD!;

let server: ChildProcess | undefined;
let dataDir = '';
let baseURL = '';

test.beforeAll(async () => {
  const root = path.resolve(__dirname, '..', '..');
  dataDir = mkdtempSync(path.join(tmpdir(), 'tileworks-e2e-apply-'));
  server = spawn(
    path.join(root, 'target', 'debug', 'tileworks'),
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--director-vm-create-ms', '400'],
    {
      cwd: root,
      env: {
        ...process.env,
        TILEWORKS_ADMIN_USER: 'admin',
        TILEWORKS_ADMIN_PASSWORD: PASSWORD(),
        TILEWORKS_SITE_ROOT: path.join(root, 'target', 'site'),
        RUST_LOG: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Tileworks did not start within 60 s')), 60_000);
    let seen = '';
    server!.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(/Tileworks listening on (http\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server!.on('exit', (code) => reject(new Error(`Tileworks exited early with ${code}:\n${seen}`)));
  });
});

test.afterAll(async () => {
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

/// The Director tile and PKS configured through the API, as om would; returns the PKS GUID.
async function makePksDeployable(request: APIRequestContext, token: string): Promise<string> {
  const call = (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) =>
    api(request, token, method, url, body);
  await call('PUT', '/api/v0/staged/director/properties', {
    iaas_configuration: {
      vcenter_host: 'vcsa.example.com',
      vcenter_username: 'administrator@vsphere.local',
      vcenter_password: 'vcenter-secret',
      datacenter: 'dc1',
      persistent_datastore_names: 'ds1',
      ephemeral_datastore_names: 'ds1',
    },
    director_configuration: { ntp_servers_string: '0.pool.ntp.org', resurrector_enabled: true },
  });
  for (const az of ['az1', 'az2']) {
    await call('POST', '/api/v0/staged/director/availability_zones', {
      availability_zone: { name: az, clusters: [{ cluster: `c-${az}`, resource_pool: 'rp' }] },
    });
  }
  const subnet = (third: number) => ({
    iaas_identifier: `net-${third}`,
    cidr: `10.0.${third}.0/24`,
    dns: '8.8.8.8',
    gateway: `10.0.${third}.1`,
    reserved_ip_ranges: `10.0.${third}.1-10.0.${third}.10`,
    availability_zone_names: ['az1', 'az2'],
  });
  await call('PUT', '/api/v0/staged/director/networks', {
    icmp_checks_enabled: false,
    networks: [
      { name: 'infra', subnets: [subnet(0)] },
      { name: 'services', subnets: [subnet(4)] },
    ],
  });
  await call('PUT', '/api/v0/staged/director/network_and_az', {
    network_and_az: { network: { name: 'infra' }, singleton_availability_zone: { name: 'az1' } },
  });

  const staged = await call('POST', '/api/v0/staged/products', { name: PKS, product_version: 'latest' });
  const guid: string = staged.guid;
  const base = `/api/v0/staged/products/${guid}`;
  await call('PUT', `${base}/networks_and_azs`, {
    networks_and_azs: {
      network: { name: 'infra' },
      service_network: { name: 'services' },
      singleton_availability_zone: { name: 'az1' },
      other_availability_zones: [{ name: 'az1' }, { name: 'az2' }],
    },
  });
  const hostname = 'api.pks.example.com';
  const { cert, key } = selfSignedCertificate(hostname);
  const selected = (option: string, value?: string) => ({
    selected_option: option, option_value: option, ...(value ? { value } : {}),
  });
  await call('PUT', `${base}/properties`, {
    properties: {
      '.properties.cloud_provider': selected('vsphere', 'vSphere'),
      '.properties.cloud_provider.vsphere.vcenter_master_creds': {
        value: { identity: 'administrator@vsphere.local', password: 'pks-vcenter-secret' },
      },
      '.properties.cloud_provider.vsphere.vcenter_ip': { value: 'vcsa.example.com' },
      '.properties.cloud_provider.vsphere.vcenter_dc': { value: 'dc1' },
      '.properties.cloud_provider.vsphere.vcenter_ds': { value: 'ds1' },
      '.properties.pks_api_hostname': { value: hostname },
      '.properties.plan1_selector': { value: 'Plan Active' },
      '.properties.plan1_selector.active.master_az_placement': { value: ['az1'] },
      '.properties.plan1_selector.active.worker_az_placement': { value: ['az1', 'az2'] },
      '.properties.plan2_selector': selected('inactive'),
      '.properties.plan3_selector': selected('inactive'),
      '.pivotal-container-service.pks_tls': { value: { cert_pem: cert, private_key_pem: key } },
    },
  });
  const jobs = (await call('GET', `${base}/jobs`)).jobs as { name: string; guid: string }[];
  const job = jobs.find((j) => j.name === PKS)!;
  const resources = await call('GET', `${base}/jobs/${job.guid}/resource_config`);
  await call('PUT', `${base}/jobs/${job.guid}/resource_config`, {
    ...resources,
    instances: 1,
    instance_type: { id: 'large.disk' },
    persistent_disk: { size_mb: '20480' },
  });
  await call('PUT', `${base}/errands`, { errands: [{ name: 'smoke-tests', post_deploy: false }] });

  const pending = await call('GET', '/api/v0/staged/pending_changes');
  const change = pending.product_changes.find((c: any) => c.guid === guid);
  expect(change.completeness_checks.configuration_complete, JSON.stringify(change)).toBe(true);
  return guid;
}

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
  await expect(entry.getByRole('link', { name: 'Logs' })).toHaveAttribute('href', `/installations/${id}`);
  await page.screenshot({ path: '/tmp/e2e-apply-change-log.png', fullPage: true });

  // --- The Status tab: the VM, refreshing on its own.
  await page.goto(`/products/${guid}/status`);
  const vm = page.locator(`table.status-table tr[data-instance="${PKS}/0"]`);
  await expect(vm).toHaveAttribute('data-state', 'running');
  await expect(vm).toContainText('az1');
  await expect(vm).toContainText('10.0.0.');
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

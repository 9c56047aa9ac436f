import { APIRequestContext, expect, Page } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export const ADMIN = { username: 'admin', password: () => process.env.TILEWORKS_ADMIN_PASSWORD! };

export async function logIn(page: Page, username = ADMIN.username, password = ADMIN.password()) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/// Clicks a control until `visible` shows: clicks that land before hydration do nothing, and the
/// behaviour only exists once the wasm bundle has taken over the page.
export async function clickUntilVisible(page: Page, control: string, visible: string) {
  await expect(async () => {
    await page.getByRole('button', { name: new RegExp(control) }).click();
    await expect(page.getByRole('menuitem', { name: visible })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

/// Waits until the wasm bundle has hydrated the page: the dashboard and the settings form set
/// `data-hydrated` from an effect, and effects only run in the browser once hydration is done.
/// Typing before that would change the DOM but not the page's state.
export async function waitForHydration(page: Page, selector: string) {
  await expect(page.locator(`${selector}[data-hydrated="true"]`)).toBeVisible({ timeout: 30_000 });
}

/// A bearer token for the Ops Manager API (the password grant, as `om` asks for one).
export async function apiToken(request: APIRequestContext): Promise<string> {
  const response = await request.post('/uaa/oauth/token', {
    headers: { authorization: `Basic ${Buffer.from('opsman:').toString('base64')}` },
    form: {
      grant_type: 'password',
      username: ADMIN.username,
      password: ADMIN.password(),
      client_id: 'opsman',
    },
  });
  expect(response.status()).toBe(200);
  return (await response.json()).access_token;
}

/// One Ops Manager API call with a bearer token; fails the test on a non-2xx answer.
export async function api(
  request: APIRequestContext,
  token: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<any> {
  const response = await request.fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok()) throw new Error(`${method} ${path} → ${response.status()}: ${text}`);
  return text ? JSON.parse(text) : null;
}

export const WIDGET_TILE = { name: 'e2e-widgets', version: '0.1.0', label: 'E2E Widgets' };

/// Packs end2end/fixtures/widget-tile into a .pivotal with `tileworks tile pack` (the tile
/// author's tool), adding the release tarball the metadata names (a stand-in of about
/// `releaseBytes` bytes: a bigger file lets a throttled upload show its progress). Returns its path.
export function packWidgetTile(releaseBytes = 0): string {
  const root = path.resolve(__dirname, '..', '..');
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-widget-tile-'));
  cpSync(path.resolve(__dirname, '..', 'fixtures', 'widget-tile'), work, { recursive: true });
  mkdirSync(path.join(work, 'releases'), { recursive: true });
  writeFileSync(
    path.join(work, 'releases', `${WIDGET_TILE.name}-${WIDGET_TILE.version}.tgz`),
    Buffer.concat([gzipSync(Buffer.from('a stand-in for a BOSH release tarball\n')), randomBytes(releaseBytes)]),
  );
  const output = path.join(tmpdir(), `e2e-widgets-${process.pid}.pivotal`);
  execFileSync(path.join(root, 'target', 'debug', 'tileworks'), ['tile', 'pack', work, '-o', output], {
    stdio: 'pipe',
  });
  rmSync(work, { recursive: true, force: true });
  return output;
}

/// The staged widget tile's GUID: imports (through the API) and stages it when an earlier test
/// has not already done so through the UI, so each test also runs on its own.
export async function stagedWidgetTile(request: APIRequestContext): Promise<string> {
  const token = await apiToken(request);
  const find = async () =>
    ((await api(request, token, 'GET', '/api/v0/staged/products')) as any[]).find(
      (p) => p.type === WIDGET_TILE.name,
    )?.guid as string | undefined;
  const existing = await find();
  if (existing) return existing;
  const file = packWidgetTile();
  const upload = await request.post('/api/v0/available_products', {
    headers: { authorization: `Bearer ${token}` },
    multipart: {
      'product[file]': { name: path.basename(file), mimeType: 'application/octet-stream', buffer: readFileSync(file) },
    },
  });
  expect(upload.ok(), await upload.text()).toBe(true);
  rmSync(file, { force: true });
  const staged = await api(request, token, 'POST', '/api/v0/staged/products', {
    name: WIDGET_TILE.name,
    product_version: WIDGET_TILE.version,
  });
  return staged.guid;
}

/// A self-signed certificate for `hostname` (also its DNS SAN) and its key, made with openssl for
/// this run: tiles ask for real PEM, and a fixed one in the repository would expire.
export function selfSignedCertificate(hostname: string): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${hostname}`,
      '-addext', `subjectAltName=DNS:${hostname}`,
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    return {
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const PKS = 'pivotal-container-service';

/// A Tileworks of a spec's own (own data dir, own embedded Director), for specs that deploy:
/// a deployed product cannot be taken off the dashboard again, and the other specs expect the
/// bundled PKS tile and the Director tile unconfigured on the shared server.
export interface OwnTileworks {
  baseURL: string;
  /// Stops the server and removes its data dir.
  stop: () => void;
  /// Stops the server and keeps its data dir (to start it again with `options.dataDir`).
  halt: () => Promise<void>;
  dataDir: string;
  /// What the server printed up to its "listening" line.
  stdout: string;
}

/// `options.dataDir`: start on an existing data dir; `options.passphrase`: the
/// TILEWORKS_DECRYPTION_PASSPHRASE to give (unset: none, so a later start is locked).
export async function startOwnTileworks(
  name: string,
  args: string[] = [],
  options: { dataDir?: string; passphrase?: string } = {},
): Promise<OwnTileworks> {
  const root = path.resolve(__dirname, '..', '..');
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), `tileworks-e2e-${name}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TILEWORKS_ADMIN_USER: ADMIN.username,
    TILEWORKS_ADMIN_PASSWORD: ADMIN.password(),
    TILEWORKS_SITE_ROOT: path.join(root, 'target', 'site'),
    RUST_LOG: 'warn',
  };
  if (options.passphrase === undefined) delete env.TILEWORKS_DECRYPTION_PASSPHRASE;
  else env.TILEWORKS_DECRYPTION_PASSPHRASE = options.passphrase;
  const server: ChildProcess = spawn(
    path.join(root, 'target', 'debug', 'tileworks'),
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = () => {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  const halt = () =>
    new Promise<void>((resolve) => {
      server.on('exit', () => resolve());
      server.kill('SIGTERM');
    });
  let seen = '';
  try {
    const baseURL = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Tileworks did not start within 60 s')), 60_000);
      server.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = seen.match(/Tileworks listening on (http\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      server.on('exit', (code) => reject(new Error(`Tileworks exited early with ${code}:\n${seen}`)));
    });
    return { baseURL, stop, halt, dataDir, stdout: seen };
  } catch (e) {
    stop();
    throw e;
  }
}

/// The Director tile and PKS configured through the API, as om would; returns the PKS GUID.
export async function makePksDeployable(request: APIRequestContext, token: string): Promise<string> {
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

/// Apply Changes through the API (as `om apply-changes`), polled until it ends; fails the test
/// unless it succeeded.
export async function applyChangesAndWait(request: APIRequestContext, token: string, timeoutMs = 180_000) {
  const started = await api(request, token, 'POST', '/api/v0/installations', {
    deploy_products: 'all', ignore_warnings: true,
  });
  const id = started.install.id;
  await expect
    .poll(async () => (await api(request, token, 'GET', `/api/v0/installations/${id}`)).status, {
      timeout: timeoutMs,
      intervals: [250, 500, 1000],
    })
    .not.toBe('running');
  const done = await api(request, token, 'GET', `/api/v0/installations/${id}`);
  if (done.status !== 'succeeded') {
    const logs = await api(request, token, 'GET', `/api/v0/installations/${id}/logs`);
    throw new Error(`installation ${id} ${done.status}:\n${logs.logs}`);
  }
}

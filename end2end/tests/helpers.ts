import { APIRequestContext, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
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

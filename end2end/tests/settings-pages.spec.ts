import { Browser, BrowserContext, expect, Page, test } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { logIn, OwnTileworks, selfSignedCertificate, startOwnTileworks } from './helpers';

// The TLS certificate, VM extensions and decryption passphrase settings pages in Chromium, on a
// Tileworks of this spec's own served over HTTPS (so its certificate can be shown and replaced,
// and its passphrase changed without touching the shared server): reached from the Settings
// menu, each form's refusal beside the form with the page hydrating again, each form's success;
// the passphrase form also with JavaScript off.

let own: OwnTileworks;
let certDir: string;
const PASSPHRASE = 'e2e settings passphrase 1';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'e2e-settings-tls-'));
  const { cert, key } = selfSignedCertificate('first.example.com');
  writeFileSync(path.join(certDir, 'cert.pem'), cert);
  writeFileSync(path.join(certDir, 'key.pem'), key);
  own = await startOwnTileworks(
    'settings-pages',
    ['--tls-cert', path.join(certDir, 'cert.pem'), '--tls-key', path.join(certDir, 'key.pem')],
    { passphrase: PASSPHRASE },
  );
});

test.afterAll(async () => {
  own?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

async function context(browser: Browser, javaScriptEnabled = true): Promise<BrowserContext> {
  // The certificates are self-signed for this run: the browser is told to accept them.
  return browser.newContext({ baseURL: own.baseURL, ignoreHTTPSErrors: true, javaScriptEnabled });
}

/// Collects page errors and console errors other than the refused form's own status.
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  return errors;
}

function posted(page: Page, address: string) {
  return page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(address));
}

test('the TLS certificate page shows the served certificate, refuses a wrong key and replaces it', async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  try {
    await logIn(page);
    await page.goto('/settings');
    await page.getByRole('link', { name: 'Tileworks TLS certificate' }).click();
    await expect(page).toHaveURL(/\/settings\/ssl-certificate$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Tileworks TLS certificate' })).toBeVisible();
    await expect(page.locator('td.names')).toHaveText('first.example.com');
    await expect(page.locator('td.source')).toHaveText("The command line's (--tls-cert)");
    expect(await page.content()).not.toContain('PRIVATE KEY-----');

    const next = selfSignedCertificate('second.example.com');
    const other = selfSignedCertificate('other.example.com');
    await page.getByLabel('Certificate (PEM)').fill(next.cert);
    await page.getByLabel('Private key (PEM)').fill(other.key);
    let answer = posted(page, '/settings/ssl-certificate');
    await page.getByRole('button', { name: 'Save certificate' }).click();
    expect((await answer).status()).toBe(422);
    await expect(page.locator('.form-error[data-form="set"]')).toHaveAttribute('data-field', 'private_key');
    await expect(page.locator('.form-error[data-form="set"]')).toContainText('does not belong to the certificate');
    await expect(page.getByLabel('Certificate (PEM)')).toHaveValue(next.cert.trim() + '\n');
    await expect(page.getByLabel('Private key (PEM)')).toHaveValue('');

    await page.getByLabel('Private key (PEM)').fill(next.key);
    answer = posted(page, '/settings/ssl-certificate');
    await page.getByRole('button', { name: 'Save certificate' }).click();
    expect((await answer).status()).toBe(303);
    await expect(page).toHaveURL(/\/settings\/ssl-certificate\?done=set$/);
    await expect(page.getByRole('status')).toContainText('Certificate saved.');
    await expect(page.locator('td.names')).toHaveText('second.example.com');
    await expect(page.locator('td.source')).toHaveText('Set through this page or the API');

    await page.getByRole('button', { name: "Go back to the command line's certificate" }).click();
    await expect(page).toHaveURL(/done=reset$/);
    await expect(page.locator('td.names')).toHaveText('first.example.com');
    await page.waitForLoadState('networkidle');
    expect(errors).toEqual([]);
  } finally {
    await ctx.close();
  }
});

test('VM extensions are created, refused with the rule beside the form, and deleted after a confirmation', async ({ browser }) => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  try {
    await logIn(page);
    await page.goto('/settings');
    await page.getByRole('link', { name: 'VM extensions' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'VM extensions' })).toBeVisible();
    await expect(page.getByText('No VM extensions yet.')).toBeVisible();

    await page.getByLabel('Name').fill('public_ip');
    await page.getByLabel('Cloud properties (a JSON object)').fill('{"associate_public_ip_address": tru');
    let answer = posted(page, '/settings/vm-extensions');
    await page.getByRole('button', { name: 'Save VM extension' }).click();
    expect((await answer).status()).toBe(422);
    await expect(page.locator('.form-error[data-form="save"]')).toHaveAttribute('data-field', 'cloud_properties');
    await expect(page.locator('.form-error[data-form="save"]')).toContainText('is not JSON');
    await expect(page.getByLabel('Name')).toHaveValue('public_ip');

    await page.getByLabel('Cloud properties (a JSON object)').fill('{"associate_public_ip_address": true}');
    answer = posted(page, '/settings/vm-extensions');
    await page.getByRole('button', { name: 'Save VM extension' }).click();
    expect((await answer).status()).toBe(303);
    await expect(page.getByRole('status')).toContainText('VM extension saved.');
    const row = page.locator('tr[data-name="public_ip"]');
    await expect(row.locator('pre.cloud-properties')).toContainText('"associate_public_ip_address": true');

    // Review lists the Director as changed.
    await page.goto('/review');
    await expect(page.getByText('BOSH Director').first()).toBeVisible();

    await page.goto('/settings/vm-extensions');
    await row.getByRole('link', { name: 'Delete' }).click();
    await expect(page).toHaveURL(/\?delete=public_ip$/);
    const confirm = page.locator('form.vm-extension-delete');
    await expect(confirm).toContainText("Delete the VM extension 'public_ip'?");
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(page).toHaveURL(/done=deleted$/);
    await expect(page.getByText('No VM extensions yet.')).toBeVisible();
    await page.waitForLoadState('networkidle');
    expect(errors).toEqual([]);
  } finally {
    await ctx.close();
  }
});

test('with JavaScript off: the passphrase form refuses a wrong current passphrase, then changes it', async ({ browser }) => {
  const ctx = await context(browser, false);
  const page = await ctx.newPage();
  try {
    await logIn(page);
    await page.goto('/settings/decryption-passphrase');
    await expect(page.getByRole('heading', { level: 1, name: 'Decryption passphrase' })).toBeVisible();
    const fill = async (current: string, fresh: string, again: string) => {
      await page.getByLabel('Current passphrase').fill(current);
      await page.getByLabel('New passphrase', { exact: true }).fill(fresh);
      await page.getByLabel('New passphrase again').fill(again);
    };
    await fill('not the passphrase at all', 'the next passphrase 2', 'the next passphrase 2');
    let answer = posted(page, '/settings/decryption-passphrase');
    await page.getByRole('button', { name: 'Change passphrase' }).click();
    expect((await answer).status()).toBe(403);
    await expect(page.locator('.form-error[data-form="change"]')).toHaveAttribute('data-field', 'current_passphrase');
    await expect(page.getByLabel('Current passphrase')).toHaveValue('');

    await fill(PASSPHRASE, 'the next passphrase 2', 'the next passphrase 3');
    answer = posted(page, '/settings/decryption-passphrase');
    await page.getByRole('button', { name: 'Change passphrase' }).click();
    expect((await answer).status()).toBe(422);
    await expect(page.locator('.form-error[data-form="change"]')).toHaveAttribute('data-field', 'new_passphrase_confirmation');

    await fill(PASSPHRASE, 'the next passphrase 2', 'the next passphrase 2');
    await page.getByRole('button', { name: 'Change passphrase' }).click();
    await expect(page).toHaveURL(/done=changed$/);
    await expect(page.getByRole('status')).toContainText('Decryption passphrase changed.');
    // Still signed in: nothing else ended.
    await page.goto('/settings');
    await expect(page.getByRole('link', { name: 'Decryption passphrase' })).toBeVisible();
  } finally {
    await ctx.close();
  }
});

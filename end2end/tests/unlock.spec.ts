import { expect, test } from '@playwright/test';
import { rmSync } from 'node:fs';
import { ADMIN, startOwnTileworks } from './helpers';

// A restarted Tileworks asks for the decryption passphrase before anyone can log in: every
// page leads to the unlock form (plain HTML, works before any script), a wrong passphrase is
// shown as such, the right one leads on to the login page.
test('after a restart the browser unlocks with the passphrase, then logs in', async ({ page }) => {
  const passphrase = 'e2e-decryption-passphrase';
  const first = await startOwnTileworks('unlock', [], { passphrase });
  const dataDir = first.dataDir;
  await first.halt();
  const locked = await startOwnTileworks('unlock', [], { dataDir });
  try {
    expect(locked.stdout).toContain('Tileworks is locked');
    await page.goto(`${locked.baseURL}/`);
    await expect(page).toHaveURL(/\/unlock$/);
    await expect(page.getByLabel('Decryption passphrase')).toBeVisible();

    await page.getByLabel('Decryption passphrase').fill('not the passphrase');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(page.getByRole('alert')).toHaveText('The decryption passphrase is incorrect.');
    await page.goto(`${locked.baseURL}/login`);
    await expect(page).toHaveURL(/\/unlock$/);

    await page.getByLabel('Decryption passphrase').fill(passphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
    // The "starting" page reloads itself until the services are up, then goes to login.
    await expect(page).toHaveURL(/\/login$/, { timeout: 60_000 });
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  } finally {
    await locked.halt();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

import { expect, test } from '@playwright/test';
import { ADMIN, clickUntilVisible, logIn } from './helpers';

test('an anonymous visitor is sent to the login page', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Tileworks' })).toBeVisible();
});

test('a wrong password shows one generic message and stays logged out', async ({ page }) => {
  await logIn(page, ADMIN.username, 'not-the-password');
  await expect(page).toHaveURL(/\/login\?error=invalid$/);
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password.');
  // An unknown user gets exactly the same words.
  await logIn(page, 'nobody-by-this-name', 'whatever');
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('logging in shows the Installation Dashboard with the Director tile', async ({ page }) => {
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  await expect(page.locator('[data-product="p-bosh"]')).toContainText('BOSH Director');
  await expect(page.getByText('No products staged yet')).toBeVisible();
});

test('the user menu works only once the page is hydrated, and logs out', async ({ page }) => {
  const wasm: string[] = [];
  page.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(`${r.status()} ${r.url()}`);
  });
  await logIn(page);
  // Server-rendered HTML has no menu items: they are created by the wasm bundle on click.
  await expect(page.getByRole('menuitem', { name: 'Log out' })).toHaveCount(0);
  await clickUntilVisible(page, 'admin', 'Log out');
  expect(wasm.some((line) => line.startsWith('200 ') && /\/pkg\/tileworks(\.[0-9a-f]+)?_bg\.wasm$/.test(line))).toBe(true);
  await expect(page.getByRole('button', { name: /admin/ })).toHaveAttribute('aria-expanded', 'true');

  await page.getByRole('menuitem', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('without the wasm bundle the menu does not open: the behaviour is hydration', async ({ page }) => {
  await page.route('**/*.wasm', (route) => route.abort());
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  await page.getByRole('button', { name: /admin/ }).click();
  await page.waitForTimeout(500);
  await expect(page.getByRole('menuitem', { name: 'Log out' })).toHaveCount(0);
});

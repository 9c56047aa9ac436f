import { expect, test } from '@playwright/test';
import { clickUntilVisible, logIn, waitForHydration } from './helpers';

// The Users page: an administrator creates a user, the user logs in in another browser, the
// administrator changes its role and the user's session ends at once.
test('an administrator creates a user, changes its role, and the user is signed out', async ({ page, browser }) => {
  const name = `e2e-user-${Date.now()}`;
  const password = 'e2e-user-password-long';

  await logIn(page);
  await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  // The user menu links the Users page for an administrator.
  await clickUntilVisible(page, 'admin', 'Users');
  await page.getByRole('menuitem', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/users$/);
  await waitForHydration(page, 'main.users');

  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.locator('#new-role').selectOption('full_control');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('status')).toContainText(`Created ${name}`);
  const row = page.locator(`tr[data-user="${name}"]`);
  await expect(row.getByRole('combobox')).toHaveValue('full_control');

  // The new user signs in in a browser of its own; its menu has no Users link.
  const other = await browser.newContext();
  const userPage = await other.newPage();
  await logIn(userPage, name, password);
  await expect(userPage.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  await clickUntilVisible(userPage, name, 'Account');
  await expect(userPage.getByRole('menuitem', { name: 'Users' })).toHaveCount(0);
  // The page itself is refused to the role, whatever the menu shows.
  const refused = await userPage.request.get('/users');
  expect(refused.status()).toBe(403);

  // The administrator makes it a viewer: its session ends.
  await row.getByRole('combobox').selectOption('restricted_view');
  await row.getByRole('button', { name: 'Change role' }).click();
  await expect(page.getByRole('status')).toContainText(`${name} now has the role Restricted view`);
  await userPage.goto('/');
  await expect(userPage).toHaveURL(/\/login$/);

  // Signed in again, it has the new role.
  await logIn(userPage, name, password);
  await expect(userPage.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  await clickUntilVisible(userPage, name, 'Account');
  await expect(userPage.getByText('Role: restricted_view')).toBeVisible();
  await other.close();
});

test('the last administrator cannot demote itself, and the page says why', async ({ page }) => {
  await logIn(page);
  await page.goto('/users');
  await waitForHydration(page, 'main.users');
  const row = page.locator('tr[data-user="admin"]');
  await row.getByRole('combobox').selectOption('full_view');
  await row.getByRole('button', { name: 'Change role' }).click();
  await expect(page.getByRole('alert')).toContainText('last enabled administrator');
  await page.reload();
  await expect(page.locator('tr[data-user="admin"]').getByRole('combobox')).toHaveValue('admin');
});

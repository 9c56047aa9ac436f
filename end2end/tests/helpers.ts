import { expect, Page } from '@playwright/test';

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

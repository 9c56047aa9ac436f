import { expect, test } from '@playwright/test';
import { logIn } from './helpers';

// The Audit page: an administrator finds its own sign-in through the header link and the
// filter form (a plain GET form), and the export link carries the same filters.
test('an administrator filters the audit trail and exports the selection', async ({ page }) => {
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit trail' })).toBeVisible();

  await page.locator('select[name="kind"]').selectOption('sign_in');
  await page.locator('input[name="principal"]').fill('admin');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/kind=sign_in/);
  const rows = page.locator('table.audit-table tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const kind of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')))) {
    expect(kind).toBe('sign_in');
  }
  await expect(rows.first()).toContainText('admin');
  // Passwords are never shown: the sign-in's body says [FILTERED].
  await rows.first().locator('summary').click();
  await expect(rows.first().locator('pre')).toContainText('[FILTERED]');
  const href = await page.getByRole('link', { name: 'Export as JSON lines' }).getAttribute('href');
  expect(href).toContain('/api/v0/audit_events/export?');
  expect(href).toContain('kind=sign_in');

  // A bad filter is named on the page.
  await page.goto('/audit?since=yesterday');
  await expect(page.getByRole('alert')).toContainText('since');
});

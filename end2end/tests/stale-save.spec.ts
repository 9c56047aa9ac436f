import { expect, test } from '@playwright/test';
import { logIn, stagedWidgetTile, waitForHydration } from './helpers';

// Two operators open the same form; the first save wins, and the second is refused with the
// conflict message while its typed values stay in the form.

test('a save that started from an older configuration is refused and keeps the typed values', async ({
  browser,
  request,
}) => {
  const guid = await stagedWidgetTile(request);
  const url = `/products/${guid}/settings?form=basics`;
  const first = await (await browser.newContext()).newPage();
  const second = await (await browser.newContext()).newPage();
  for (const page of [first, second]) {
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goto(url);
    await waitForHydration(page, 'form.settings-form');
  }

  const fill = async (page: typeof first, greeting: string, workers: string, domain: string) => {
    await page.getByLabel('Greeting').fill(greeting);
    await page.getByLabel('Worker count').fill(workers);
    await page.getByLabel('Site domain').fill(domain);
    await page.getByLabel('Administrator email').fill('ops@example.com');
  };
  await fill(first, 'first', '2', 'first.example.com');
  await fill(second, 'second', '7', 'second.example.com');

  await first.getByRole('button', { name: 'Save' }).click();
  await expect(first.getByRole('status')).toHaveText('Settings saved.');

  await second.getByRole('button', { name: 'Save' }).click();
  const status = second.getByRole('status');
  await expect(status).toContainText('Nothing was saved:');
  await expect(status).toContainText('Reload the page to see the current settings (your typed values are still here).');
  await expect(second.getByLabel('Greeting')).toHaveValue('second');
  await expect(second.getByLabel('Worker count')).toHaveValue('7');
  await expect(second.getByLabel('Site domain')).toHaveValue('second.example.com');
  await second.screenshot({ path: '/tmp/e2e-stale-save.png', fullPage: true });

  // The first save is what is stored.
  await second.reload();
  await waitForHydration(second, 'form.settings-form');
  await expect(second.getByLabel('Greeting')).toHaveValue('first');
  await expect(second.getByLabel('Worker count')).toHaveValue('2');

  // Having reloaded, the second operator can save over it.
  await second.getByLabel('Greeting').fill('second');
  await second.getByRole('button', { name: 'Save' }).click();
  await expect(second.getByRole('status')).toHaveText('Settings saved.');

  await first.context().close();
  await second.context().close();
});

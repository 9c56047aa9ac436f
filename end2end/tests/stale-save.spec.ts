import { expect, Page, test } from '@playwright/test';
import { api, apiToken, logIn, stagedWidgetTile, waitForHydration, selfSignedCertificate } from './helpers';

// Two operators open the same form; the first save wins. The second is refused, told field by
// field what the first changed (a credential only as "changed"), keeps every typed value, and
// decides per field: Use theirs or Keep mine. Nothing is ever overwritten silently.

test('a stale save lists what the other operator changed and keeps the typed values', async ({ browser, request }) => {
  const guid = await stagedWidgetTile(request);
  const open = async (form: string) => {
    const page = await (await browser.newContext()).newPage();
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goto(`/products/${guid}/settings?form=${form}`);
    await waitForHydration(page, 'form.settings-form');
    return page;
  };
  const first = await open('basics');
  const second = await open('basics');
  const started = {
    greeting: await second.getByLabel('Greeting').inputValue(),
    workers: await second.getByLabel('Worker count').inputValue(),
  };

  const fill = async (page: Page, greeting: string, workers: string, domain: string) => {
    await page.getByLabel('Greeting').fill(greeting);
    await page.getByLabel('Worker count').fill(workers);
    await page.getByLabel('Site domain').fill(domain);
    await page.getByLabel('Administrator email').fill('ops@example.com');
  };
  // A unique greeting per run, so the first save always changes it.
  const theirs = `first${'abcdefghij'[Date.now() % 10]}${'klmnopqrst'[Math.floor(Date.now() / 10) % 10]}`;
  await fill(first, theirs, started.workers === '2' ? '4' : '2', `${theirs}.example.com`);
  await fill(second, 'second', '7', 'second.example.com');

  await first.getByRole('button', { name: 'Save' }).click();
  await expect(first.getByRole('status')).toHaveText('Settings saved.');
  const theirWorkers = await first.getByLabel('Worker count').inputValue();

  await second.getByRole('button', { name: 'Save' }).click();
  await expect(second.getByRole('status')).toContainText('Nothing was saved: another operator changed this form');
  const panel = second.getByRole('region', { name: 'Changed by another operator' });
  const change = (reference: string) => panel.locator(`li[data-reference="${reference}"]`);
  await expect(change('.properties.greeting').locator('.change-text')).toHaveText(
    `Greeting: changed by admin to ${theirs}`,
  );
  await expect(change('.properties.greeting')).toContainText(
    `(you started from ${started.greeting || '(blank)'})`,
  );
  await expect(change('.properties.worker_count').locator('.change-text')).toHaveText(
    `Worker count: changed by admin to ${theirWorkers}`,
  );
  await expect(change('.properties.site_domain').locator('.change-text')).toHaveText(
    `Site domain: changed by admin to ${theirs}.example.com`,
  );
  // Every typed value is still in the form.
  await expect(second.getByLabel('Greeting')).toHaveValue('second');
  await expect(second.getByLabel('Worker count')).toHaveValue('7');
  await expect(second.getByLabel('Site domain')).toHaveValue('second.example.com');
  await second.screenshot({ path: '/tmp/e2e-stale-save.png', fullPage: true });

  // Decide: their worker count, my greeting and domain; anything else they changed, theirs.
  await change('.properties.worker_count').getByRole('button', { name: 'Use theirs' }).click();
  await expect(second.getByLabel('Worker count')).toHaveValue(theirWorkers);
  await change('.properties.greeting').getByRole('button', { name: 'Keep mine' }).click();
  await change('.properties.site_domain').getByRole('button', { name: 'Keep mine' }).click();
  while ((await panel.locator('li').count()) > 0) {
    await panel.locator('li').first().getByRole('button', { name: 'Use theirs' }).click();
  }
  await expect(panel).toHaveCount(0);
  await expect(second.getByRole('status')).toHaveText('Every change is decided: Save to store the form as it is now.');
  await second.getByRole('button', { name: 'Save' }).click();
  await expect(second.getByRole('status')).toHaveText('Settings saved.');

  // What is stored: my greeting and domain, their worker count.
  await second.reload();
  await waitForHydration(second, 'form.settings-form');
  await expect(second.getByLabel('Greeting')).toHaveValue('second');
  await expect(second.getByLabel('Site domain')).toHaveValue('second.example.com');
  await expect(second.getByLabel('Worker count')).toHaveValue(theirWorkers);

  await first.context().close();
  await second.context().close();
});

test('a changed credential is reported as changed, never shown; Reload discards the typed values', async ({ browser, request }) => {
  const guid = await stagedWidgetTile(request);
  // Whatever ran before, the form is complete: the other operator's save changes the token only.
  const { cert, key } = selfSignedCertificate('stale.example.com');
  await api(request, await apiToken(request), 'PUT', `/api/v0/staged/products/${guid}/properties`, {
    properties: {
      '.properties.api_token': { value: { secret: 'a-long-enough-api-token-0000' } },
      '.properties.service_account': { value: { identity: 'svc', password: 'service-account-password' } },
      '.properties.server_tls': { value: { cert_pem: cert, private_key_pem: key } },
    },
  });
  const open = async () => {
    const page = await (await browser.newContext()).newPage();
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goto(`/products/${guid}/settings?form=secrets`);
    await waitForHydration(page, 'form.settings-form');
    return page;
  };
  const first = await open();
  const second = await open();
  const token = `their-token-${Date.now()}`;
  await first.getByLabel('API token').fill(token);
  await first.getByRole('button', { name: 'Save' }).click();
  await expect(first.getByRole('status')).toHaveText('Settings saved.');

  await second.getByLabel('API token').fill('my-own-token-value');
  await second.getByRole('button', { name: 'Save' }).click();
  const panel = second.getByRole('region', { name: 'Changed by another operator' });
  await expect(panel.locator('li[data-reference=".properties.api_token"] .change-text')).toHaveText(
    'API token: changed by admin',
  );
  expect(await second.content()).not.toContain(token);
  await expect(second.getByLabel('API token')).toHaveValue('my-own-token-value');

  await panel.getByRole('button', { name: 'Reload (discard my typed values)' }).click();
  await expect(panel).toHaveCount(0);
  await expect(second.getByLabel('API token')).toHaveValue('');
  await expect(second.locator('.field[data-reference=".properties.api_token"] .secret-set')).toHaveText('✓ set');

  await first.context().close();
  await second.context().close();
});


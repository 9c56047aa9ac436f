import { APIRequestContext, expect, request as newRequest, test } from '@playwright/test';
import { api, apiToken, logIn, OwnTileworks, stagedWidgetTile, startOwnTileworks } from './helpers';

// Pages are whole on the server: with JavaScript off an operator signs in, reads the dashboard
// and a settings form with its saved values, and saves it as a plain form post (the server
// validates it as the server function does); a Save clicked before the wasm has hydrated the
// page loses nothing. On a Tileworks of this spec's own, so the widget tile's values here are
// not those the other specs expect.

let own: OwnTileworks;
let rest: APIRequestContext;
let token: string;
let guid: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  own = await startOwnTileworks('without-wasm');
  rest = await newRequest.newContext({ baseURL: own.baseURL });
  token = await apiToken(rest);
  guid = await stagedWidgetTile(rest);
  // Saved values the form must show before any script runs (the form's required fields, so a
  // save of the form can succeed).
  await api(rest, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, {
    properties: {
      '.properties.greeting': { value: 'hello' },
      '.properties.site_domain': { value: 'example.com' },
      '.properties.admin_email': { value: 'ops@example.com' },
    },
  });
});

test.afterAll(async () => {
  await rest?.dispose();
  own?.stop();
});

async function stored(reference: string): Promise<unknown> {
  const body = await api(rest, token, 'GET', `/api/v0/staged/products/${guid}/properties`);
  return body.properties[reference]?.value;
}

test('with JavaScript off: sign in, read the dashboard and a form, save it, see a refusal', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: own.baseURL, javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
    await expect(page.locator('[data-product="p-bosh"]')).toContainText('BOSH Director');
    await expect(page.getByText('E2E Widgets').first()).toBeVisible();
    await expect(page.getByText('Loading…')).toHaveCount(0);

    // The lists and the other read pages hold their data in the server's HTML.
    for (const [url, heading] of [
      ['/review', 'Review Pending Changes'],
      ['/installations', 'Change Log'],
      [`/products/${guid}/status`, /Status/],
      ['/director', /Director/],
      ['/account', /Account|password/i],
    ] as const) {
      await page.goto(url);
      await expect(page.getByRole('heading', { name: heading }).first(), url).toBeVisible();
      await expect(page.getByText('Loading…'), url).toHaveCount(0);
    }
    await page.goto('/review');
    await expect(page.getByText('E2E Widgets').first()).toBeVisible();

    await page.goto(`/products/${guid}/settings?form=basics`);
    await expect(page.getByText('Loading…')).toHaveCount(0);
    // Saved and default values are in the server's HTML.
    await expect(page.getByLabel('Greeting')).toHaveValue('hello');
    await expect(page.getByLabel('Worker count')).toHaveValue('3');
    await expect(page.getByLabel('Listen port')).toHaveValue('8443');
    await expect(page.getByLabel('Verbose logging')).not.toBeChecked();
    await expect(page.getByLabel('Site domain')).toHaveValue('example.com');

    // A valid change saves as a plain form post and comes back to the form.
    await page.getByLabel('Worker count').fill('5');
    await page.getByLabel('Verbose logging').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page).toHaveURL(/form=basics&saved=1/);
    await expect(page.getByRole('status')).toHaveText('Settings saved.');
    await expect(page.getByLabel('Worker count')).toHaveValue('5');
    await expect(page.getByLabel('Verbose logging')).toBeChecked();
    expect(await stored('.properties.worker_count')).toBe(5);
    expect(await stored('.properties.verbose')).toBe(true);
    expect(await stored('.properties.greeting')).toBe('hello');

    // An invalid value is refused with the metadata's words; what was typed stays on the page.
    await page.getByLabel('Greeting').fill('Hello There');
    await page.getByLabel('Worker count').fill('7');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status')).toHaveText('Nothing was saved: fix the fields marked below.');
    await expect(page.locator('.field[data-reference=".properties.greeting"] > .field-errors')).toHaveText(
      'Use lower-case letters a to z only.',
    );
    await expect(page.getByLabel('Greeting')).toHaveValue('Hello There');
    await expect(page.getByLabel('Worker count')).toHaveValue('7');
    expect(await stored('.properties.greeting')).toBe('hello');
    expect(await stored('.properties.worker_count')).toBe(5);

    // Unchecking a box is a change too (the unchecked box posts nothing itself).
    await page.goto(`/products/${guid}/settings?form=basics`);
    await page.getByLabel('Verbose logging').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status')).toHaveText('Settings saved.');
    expect(await stored('.properties.verbose')).toBe(false);
  } finally {
    await context.close();
  }
});

test('Save clicked before the wasm has hydrated the form loses nothing', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: own.baseURL });
  const page = await context.newPage();
  // Hold the wasm back: the page stays as the server rendered it.
  const held: Array<() => Promise<void>> = [];
  let wasmAsked = 0;
  await page.route(/\.wasm$/, (route) => {
    wasmAsked += 1;
    held.push(() => route.abort().catch(() => {}));
  });
  try {
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goto(`/products/${guid}/settings?form=basics`);
    await expect.poll(() => wasmAsked).toBeGreaterThan(0);
    await expect(page.locator('form.settings-form[data-hydrated="true"]')).toHaveCount(0);
    await page.getByLabel('Worker count').fill('8');
    await page.getByLabel('Message of the day').fill('typed before hydration');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page).toHaveURL(/form=basics&saved=1/);
    await expect(page.getByRole('status')).toHaveText('Settings saved.');
    await expect(page.getByLabel('Worker count')).toHaveValue('8');
    await expect(page.getByLabel('Message of the day')).toHaveValue('typed before hydration');
    expect(await stored('.properties.worker_count')).toBe(8);
    expect(await stored('.properties.motd')).toBe('typed before hydration');
    // Buttons that need the wasm (a collection's Add) are disabled until it arrives; Save is not.
    await page.goto(`/products/${guid}/settings?form=routes`);
    await expect(page.getByRole('button', { name: 'Add', exact: true })).toBeDisabled();
    await expect(page.getByRole('button', { name: 'Save' })).toBeEnabled();
  } finally {
    for (const release of held) await release();
    await context.close();
  }
});

test('with JavaScript off: a stale save lists what the other operator changed, and a second Save stores mine', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: own.baseURL, javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goto(`/products/${guid}/settings?form=basics`);
    await expect(page.getByLabel('Greeting')).toHaveValue('hello');
    // Another operator saves the worker count while this form is open.
    await api(rest, token, 'PUT', `/api/v0/staged/products/${guid}/properties`, {
      properties: { '.properties.worker_count': { value: 9 } },
    });
    await page.getByLabel('Greeting').fill('howdy');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status')).toContainText('what they changed is listed below');
    const change = page.locator('section.conflict li[data-reference=".properties.worker_count"]');
    await expect(change).toContainText('Worker count: changed by');
    await expect(change).toContainText('to 9');
    await expect(page.getByLabel('Greeting')).toHaveValue('howdy');
    expect(await stored('.properties.greeting')).toBe('hello');

    // Saving again stores the typed value over the current version, theirs kept for the rest.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page).toHaveURL(/form=basics&saved=1/);
    expect(await stored('.properties.greeting')).toBe('howdy');
    expect(await stored('.properties.worker_count')).toBe(9);
  } finally {
    await context.close();
  }
});

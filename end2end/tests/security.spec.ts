import { expect, test } from '@playwright/test';
import { logIn, waitForHydration } from './helpers';

// The pages run under the server's Content Security Policy: the hydration script carries the
// response's nonce, the wasm module loads, and nothing the pages need is blocked. A violation
// shows as a console error in Chromium, so none may appear while the pages load and hydrate.
test('pages hydrate under the Content Security Policy without a violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  await waitForHydration(page, '.dashboard-layout');
  for (const path of ['/director', '/review', '/installations']) {
    const response = await page.goto(path);
    const policy = response!.headers()['content-security-policy'];
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toMatch(/'nonce-[A-Za-z0-9_-]{22}'/);
    await expect(page.locator('header')).toBeVisible();
  }
  await page.goto('/director');
  await expect(page.locator('main.director[data-hydrated="true"]')).toBeVisible({ timeout: 30_000 });
  expect(violations).toEqual([]);
});

// A page of another origin cannot drive Tileworks with the operator's session: the browser
// names the page's origin, and the gate refuses the write.
test('a cross-site form cannot stage a product with the session', async ({ page, context }) => {
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'Installation Dashboard' })).toBeVisible();
  const response = await context.request.post('/_app/stage_product', {
    headers: { origin: 'http://attacker.example', 'content-type': 'application/x-www-form-urlencoded' },
    data: 'name=pivotal-container-service&version=1.1.3-build.11',
  });
  expect(response.status()).toBe(403);
  expect(await response.text()).toContain('cross-site request refused');
});

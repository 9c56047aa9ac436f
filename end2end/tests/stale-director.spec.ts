import { Browser, expect, Locator, Page, test } from '@playwright/test';
import { api, apiToken, logIn, stagedWidgetTile, waitForHydration } from './helpers';

// Two operators on the same Director section, or the same Resource Config page: the first save
// wins; the second is refused, told per field what the first changed (who, to what, and what it
// was), keeps every typed value, and decides per field: Use theirs or Keep mine. Each test puts
// back what it changed, so the specs after it find the settings as they were.

async function openPage(browser: Browser, url: string, hydrated: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await page.goto(url);
  await waitForHydration(page, hydrated);
  return page;
}

/// The control of the Director field filed under `key`.
function control(page: Page, key: string): Locator {
  return page.locator(`[data-field="${key}"]`).locator('input, textarea, select').first();
}

test('a stale Director config save lists the other operator’s changes per field', async ({ browser, request }) => {
  const token = await apiToken(request);
  const properties = '/api/v0/staged/director/properties';
  const original = (await api(request, token, 'GET', properties)).director_configuration;
  // Whatever ran before, the section saves: NTP servers set, workers a number.
  const ntp = original.ntp_servers_string || '0.pool.ntp.org';
  const workers = Number(original.director_worker_instances) || 5;
  await api(request, token, 'PUT', properties, {
    director_configuration: { ntp_servers_string: ntp, director_worker_instances: workers },
  });
  try {
    const url = '/director?section=director';
    const first = await openPage(browser, url, 'main.director');
    const second = await openPage(browser, url, 'main.director');
    await expect(second.getByRole('heading', { level: 2, name: 'Director Config' })).toBeVisible();

    const theirNtp = `ntp-${Date.now() % 100000}.example.com`;
    const theirWorkers = String(workers === 6 ? 7 : 6);
    await control(first, 'director_configuration.ntp_servers_string').fill(theirNtp);
    await control(first, 'director_configuration.director_worker_instances').fill(theirWorkers);
    await first.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(first.getByRole('status')).toHaveText('Director settings saved.');

    await control(second, 'director_configuration.ntp_servers_string').fill('mine.example.com');
    await control(second, 'director_configuration.director_worker_instances').fill('9');
    await second.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(second.getByRole('status')).toContainText(
      'Nothing was saved: another operator changed this section since you opened it.',
    );
    const panel = second.getByRole('region', { name: 'Changed by another operator' });
    const change = (reference: string) => panel.locator(`li[data-reference="${reference}"]`);
    const ntpChange = change('director_configuration.ntp_servers_string');
    await expect(ntpChange.locator('.change-text')).toHaveText(`NTP servers: changed by admin to ${theirNtp}`);
    await expect(ntpChange.locator('.started-from')).toHaveText(`(was ${ntp})`);
    const workersChange = change('director_configuration.director_worker_instances');
    await expect(workersChange.locator('.change-text')).toHaveText(
      `Director workers: changed by admin to ${theirWorkers}`,
    );
    await expect(workersChange.locator('.started-from')).toHaveText(`(was ${workers})`);
    // The typed values are still there.
    await expect(control(second, 'director_configuration.ntp_servers_string')).toHaveValue('mine.example.com');
    await expect(control(second, 'director_configuration.director_worker_instances')).toHaveValue('9');
    await second.screenshot({ path: '/tmp/e2e-stale-director.png', fullPage: true });

    // Their worker count, my NTP servers.
    await workersChange.getByRole('button', { name: 'Use theirs' }).click();
    await expect(control(second, 'director_configuration.director_worker_instances')).toHaveValue(theirWorkers);
    await ntpChange.getByRole('button', { name: 'Keep mine' }).click();
    await expect(panel).toHaveCount(0);
    await expect(second.getByRole('status')).toHaveText('Every change is decided: Save to store the section as it is now.');
    await second.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(second.getByRole('status')).toHaveText('Director settings saved.');

    const stored = (await api(request, token, 'GET', properties)).director_configuration;
    expect(stored.ntp_servers_string).toBe('mine.example.com');
    expect(String(stored.director_worker_instances)).toBe(theirWorkers);

    await first.context().close();
    await second.context().close();
  } finally {
    await api(request, token, 'PUT', properties, {
      director_configuration: {
        ntp_servers_string: ntp,
        director_worker_instances: original.director_worker_instances ?? workers,
      },
    });
  }
});

test('a stale Resource Config save lists the other operator’s changes per job field', async ({ browser, request }) => {
  const guid = await stagedWidgetTile(request);
  const token = await apiToken(request);
  const jobs = (await api(request, token, 'GET', `/api/v0/staged/products/${guid}/jobs`)).jobs as any[];
  const job = jobs.find((j) => j.name === 'widget').guid;
  const resource = `/api/v0/staged/products/${guid}/jobs/${job}/resource_config`;
  const original = await api(request, token, 'GET', resource);
  try {
    const url = `/products/${guid}/settings?section=resources`;
    const first = await openPage(browser, url, 'form.settings-form');
    const second = await openPage(browser, url, 'form.settings-form');
    const instances = (page: Page) => page.getByLabel('Widget server instances');
    const vmType = (page: Page) => page.getByLabel('Widget server VM type');

    const theirInstances = String(original.instances) === '3' ? '4' : '3';
    // A VM type other than the current one.
    const options = await vmType(first).locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const currentType = await vmType(first).inputValue();
    const theirType = options.filter((o) => o !== '' && o !== currentType)[0];
    await instances(first).fill(theirInstances);
    await vmType(first).selectOption(theirType);
    await first.getByRole('button', { name: 'Save' }).click();
    await expect(first.getByRole('status')).toHaveText('Settings saved.');

    await instances(second).fill('2');
    await second.getByRole('button', { name: 'Save' }).click();
    await expect(second.getByRole('status')).toContainText(
      'Nothing was saved: another operator changed this page since you opened it.',
    );
    const panel = second.getByRole('region', { name: 'Changed by another operator' });
    const change = (reference: string) => panel.locator(`li[data-reference="${reference}"]`);
    const instancesChange = change('resource-config.widget.instances');
    await expect(instancesChange.locator('.change-text')).toHaveText(
      `Widget server instances: changed by admin to ${theirInstances}`,
    );
    await expect(instancesChange.locator('.started-from')).toContainText('(was ');
    const typeChange = change('resource-config.widget.instance_type');
    await expect(typeChange.locator('.change-text')).toHaveText(`Widget server VM type: changed by admin to ${theirType}`);
    await expect(instances(second)).toHaveValue('2');

    // My instance count, their VM type.
    await typeChange.getByRole('button', { name: 'Use theirs' }).click();
    await expect(vmType(second)).toHaveValue(theirType);
    await instancesChange.getByRole('button', { name: 'Keep mine' }).click();
    await expect(panel).toHaveCount(0);
    await expect(second.getByRole('status')).toHaveText('Every change is decided: Save to store the page as it is now.');
    await second.getByRole('button', { name: 'Save' }).click();
    await expect(second.getByRole('status')).toHaveText('Settings saved.');

    const stored = await api(request, token, 'GET', resource);
    expect(String(stored.instances)).toBe('2');
    expect(stored.instance_type.id).toBe(theirType);

    await first.context().close();
    await second.context().close();
  } finally {
    await api(request, token, 'PUT', resource, original);
  }
});

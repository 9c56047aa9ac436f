import { APIRequestContext, expect, Page, request as playwrightRequest, test } from '@playwright/test';
import {
  api, apiToken, applyChangesAndWait, logIn, makePksDeployable, OwnTileworks, startOwnTileworks,
  waitForHydration,
} from './helpers';

// Clusters of a three-AZ plan in Chromium, and what an operator does with them after the plan
// changes:
// - the cluster page shows the masters in three AZs;
// - a worker VM killed through the Director stand-in's fault injection shows resurrected;
// - the plan form shows the service adapter's warning under the field it is about;
// - the plan's worker VM type changed on the plan form and applied (the upgrade-all errand
//   off): every cluster of the plan shows "Upgrade available"; one is upgraded with its own
//   button, the rest with "Upgrade all clusters", whose run the page follows; the cluster
//   page's manifest then carries the new VM type.
//
// The Director gets a third AZ and plan 2 ("medium") three masters over az1–az3 through the
// API, as tests/clusters.rs deploy_pks_on_three_azs does. PKS is deployed, so this spec runs
// its own Tileworks.

let own: OwnTileworks | undefined;

test.beforeAll(async () => {
  own = await startOwnTileworks('clusters-upgrade', ['--director-vm-create-ms', '50']);
});

test.afterAll(async () => {
  own?.stop();
});

const PLAN2 = '.properties.plan2_selector.active';

/// A third AZ on the Director and both networks, and plan 2 active with its masters over the
/// three AZs (3 masters, 2 workers, at most 4).
async function threeAzPlan(request: APIRequestContext, token: string, guid: string) {
  const call = (method: 'PUT' | 'POST', url: string, body: unknown) => api(request, token, method, url, body);
  await call('POST', '/api/v0/staged/director/availability_zones', {
    availability_zone: { name: 'az3', clusters: [{ cluster: 'c-az3', resource_pool: 'rp' }] },
  });
  const subnet = (third: number) => ({
    iaas_identifier: `net-${third}`,
    cidr: `10.0.${third}.0/24`,
    dns: '8.8.8.8',
    gateway: `10.0.${third}.1`,
    reserved_ip_ranges: `10.0.${third}.1-10.0.${third}.10`,
    availability_zone_names: ['az1', 'az2', 'az3'],
  });
  await call('PUT', '/api/v0/staged/director/networks', {
    icmp_checks_enabled: false,
    networks: [
      { name: 'infra', subnets: [subnet(0)] },
      { name: 'services', subnets: [subnet(4)] },
    ],
  });
  await call('PUT', `/api/v0/staged/products/${guid}/properties`, {
    properties: {
      '.properties.plan2_selector': { value: 'Plan Active' },
      [`${PLAN2}.master_az_placement`]: { value: ['az1', 'az2', 'az3'] },
      [`${PLAN2}.worker_az_placement`]: { value: ['az1', 'az2'] },
      [`${PLAN2}.master_instances`]: { value: 3 },
      [`${PLAN2}.worker_instances`]: { value: 2 },
      [`${PLAN2}.max_worker_instances`]: { value: 4 },
    },
  });
}

/// Creates a cluster of plan `plan` on the Clusters page and waits until it is provisioned.
async function createCluster(page: Page, name: string, plan: string) {
  const form = page.locator('form.cluster-form');
  await form.locator('input[name="name"]').fill(name);
  await form.locator('select[name="plan_name"]').selectOption(plan);
  await form.locator('input[name="worker_instances"]').fill('2');
  await form.locator('input[name="external_hostname"]').fill(`${name}.example.com`);
  await form.getByRole('button', { name: 'Create cluster' }).click();
  await expect(page.getByRole('status')).toContainText(`Creating ${name}`);
  const row = page.locator(`tr[data-cluster="${name}"]`);
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 120_000 });
  await expect(row).toContainText('Instance provisioning completed');
}

/// The worker group's `vm_type` in the manifest the cluster page shows.
async function workerVmType(page: Page): Promise<string | undefined> {
  const text = (await page.locator('pre.manifest').textContent()) ?? '';
  return text.match(/- name: worker\n(?:[^\n]*\n)*?\s+vm_type: (\S+)/)?.[1];
}

test('three AZs, healing, and a plan change upgraded per cluster and for all', async ({ browser }) => {
  test.setTimeout(480_000);
  const context = await browser.newContext({ baseURL: own!.baseURL });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const token = await apiToken(page.request);
  const guid = await makePksDeployable(page.request, token);
  await threeAzPlan(page.request, token, guid);
  await applyChangesAndWait(page.request, token);

  // --- Two clusters of the three-AZ plan.
  await logIn(page);
  await page.goto('/clusters');
  await waitForHydration(page, 'main.clusters');
  await createCluster(page, 'e2e-3az', 'medium');
  await createCluster(page, 'e2e-other', 'medium');

  // --- The cluster page: three masters, one per AZ.
  await page.locator('tr[data-cluster="e2e-3az"]').getByRole('link', { name: 'e2e-3az' }).click();
  await expect(page).toHaveURL(/\/clusters\/e2e-3az$/);
  const masters = page.locator('table.cluster-vms tr[data-group="master"]');
  await expect(masters).toHaveCount(3);
  expect((await masters.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-az')))).sort()).toEqual([
    'az1', 'az2', 'az3',
  ]);
  await expect(page.locator('dd.master-azs')).toHaveText('az1, az2, az3');
  await expect(page.locator('table.cluster-vms tr[data-group="worker"]')).toHaveCount(2);
  // The adapter's warnings for the plan, said once on the page.
  await expect(page.locator('section.adapter-warnings li')).toContainText(['SecurityContextDeny is on']);
  await page.screenshot({ path: '/tmp/e2e-cluster-three-azs.png', fullPage: true });

  // --- A worker VM killed through the stand-in's fault injection, with the credentials
  // Tileworks gives the `bosh` CLI: the resurrector recreates it and the page (which asks
  // again every two seconds) says so.
  const uuid = (await page.locator('dd.uuid').textContent())!.trim();
  const worker = page.locator('table.cluster-vms tr[data-group="worker"]').first();
  const victim = (await worker.getAttribute('data-instance'))!;
  const oldCid = (await worker.locator('td.cid').textContent())!.trim();
  const creds: string = (await api(
    page.request, token, 'GET', '/api/v0/deployed/director/credentials/bosh_commandline_credentials',
  )).credential;
  const env = (name: string) => creds.split(/\s+/).find((kv) => kv.startsWith(`${name}=`))!.slice(name.length + 1);
  const director = await playwrightRequest.newContext({
    baseURL: env('BOSH_ENVIRONMENT'),
    ignoreHTTPSErrors: true,
    httpCredentials: { username: env('BOSH_CLIENT'), password: env('BOSH_CLIENT_SECRET'), send: 'always' },
  });
  const kill = await director.post(`/chaos/deployments/service-instance_${uuid}/instances/worker/${victim}/kill`);
  expect(kill.status(), await kill.text()).toBe(200);
  await director.dispose();
  const healed = page.locator(`table.cluster-vms tr[data-instance="${victim}"]`);
  await expect(healed).toHaveAttribute('data-resurrected', 'true', { timeout: 120_000 });
  await expect(healed.locator('td.healing')).toContainText('resurrected 1×');
  await expect(healed.locator('td.cid')).not.toHaveText(oldCid, { timeout: 30_000 });
  await expect(page.locator('table.cluster-events tr[data-user="health_monitor"]').first()).toBeVisible();
  await page.screenshot({ path: '/tmp/e2e-cluster-healed.png', fullPage: true });
  expect(await workerVmType(page)).toBe('medium');

  // --- Plan 2's form: the adapter's warning under Admission Plugins (server-rendered), and
  // the worker VM type changed and saved.
  await page.goto(`/products/${guid}/settings?form=plan2`);
  await waitForHydration(page, 'form.settings-form');
  const plugins = page.locator(`.field[data-reference="${PLAN2}.admission_plugins"]`);
  await expect(plugins.locator('ul.field-notes')).toContainText('SecurityContextDeny is on');
  await expect(page.locator('ul.field-notes')).toHaveCount(1);
  await page.locator(`.field[data-reference="${PLAN2}.worker_vm_type"] select`).selectOption('large');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Settings saved.');

  // Applied without the upgrade-all errand: the clusters keep the old plan until upgraded.
  await api(page.request, token, 'PUT', `/api/v0/staged/products/${guid}/errands`, {
    errands: [{ name: 'upgrade-all-service-instances', post_deploy: false }],
  });
  await applyChangesAndWait(page.request, token);

  // --- Both clusters show "Upgrade available", saying why.
  await page.goto('/clusters');
  await waitForHydration(page, 'main.clusters');
  for (const name of ['e2e-3az', 'e2e-other']) {
    const row = page.locator(`tr[data-cluster="${name}"]`);
    await expect(row).toHaveAttribute('data-upgrade-available', 'true');
    await expect(row.locator('.badge.upgrade-available')).toHaveAttribute('title', /plan medium's settings changed/);
  }
  const upgradeAll = page.getByRole('button', { name: /^Upgrade all clusters/ });
  await expect(upgradeAll).toHaveText('Upgrade all clusters (2 have an upgrade available)');
  await page.screenshot({ path: '/tmp/e2e-clusters-upgrade-available.png', fullPage: true });

  // One cluster upgraded with its own button.
  const first = page.locator('tr[data-cluster="e2e-3az"]');
  await first.getByRole('button', { name: 'Upgrade' }).click();
  await expect(page.getByRole('status')).toContainText('Upgrading e2e-3az');
  await expect(first).toContainText('Instance upgrade completed', { timeout: 120_000 });
  await expect(first).toHaveAttribute('data-state', 'succeeded');
  await expect(first.locator('.badge.upgrade-available')).toHaveCount(0);
  await expect(upgradeAll).toHaveText('Upgrade all clusters (1 has an upgrade available)');

  // The rest with "Upgrade all clusters": the page follows the fleet run to its end. (Apply
  // Changes may have run the errand before, with no clusters: the run to follow is the new one.)
  const run = page.locator('p.fleet-run');
  const earlier = (await run.count()) ? await run.getAttribute('data-run') : null;
  await upgradeAll.click();
  await expect(page.getByRole('status')).toContainText('Upgrading every cluster');
  await expect.poll(() => run.getAttribute('data-run'), { timeout: 30_000 }).not.toBe(earlier);
  await expect(run).toHaveAttribute('data-state', 'succeeded', { timeout: 180_000 });
  await expect(run).toContainText('2 of 2 clusters done');
  const other = page.locator('tr[data-cluster="e2e-other"]');
  await expect(other).toContainText('Instance upgrade completed');
  await expect(page.locator('.badge.upgrade-available')).toHaveCount(0);
  await expect(upgradeAll).toHaveText('Upgrade all clusters');
  await page.screenshot({ path: '/tmp/e2e-clusters-upgraded.png', fullPage: true });

  // The cluster pages' manifests carry the plan's new worker VM type.
  for (const name of ['e2e-3az', 'e2e-other']) {
    await page.goto(`/clusters/${name}`);
    await expect(page.locator('main.cluster')).toHaveAttribute('data-state', 'succeeded');
    expect(await workerVmType(page), name).toBe('large');
    await expect(page.locator('dd.upgrade-available')).toHaveCount(0);
  }
  expect(pageErrors).toEqual([]);
  await context.close();
});

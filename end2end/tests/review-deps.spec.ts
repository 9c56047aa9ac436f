import { APIRequestContext, expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, apiToken, logIn, waitForHydration } from './helpers';

// Review Pending Changes with dependencies: three small tiles of this spec's own (names
// prefixed e2e-deps-, so other specs never see them as theirs) — an app that requires a base
// ('~> 1.0') and optionally another product ('>= 2.0', staged here at 1.0.0). The page shows
// Depends on (green, red, gray) and Changes; checking the app checks and locks the base, which
// has pending changes; the optional dependency at another version is a warning that Ignore
// warnings skips. The tiles are unstaged again at the end, so later specs see the page as
// before.

const BASE = 'e2e-deps-base';
const APP = 'e2e-deps-app';
const OPT = 'e2e-deps-opt';

/// Packs a metadata-only tile with `tileworks tile pack` and imports it through the API.
async function importTile(request: APIRequestContext, token: string, name: string, requires: string) {
  const root = path.resolve(__dirname, '..', '..');
  const work = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const output = path.join(tmpdir(), `${name}-${process.pid}.pivotal`);
  try {
    mkdirSync(path.join(work, 'metadata'));
    writeFileSync(
      path.join(work, 'metadata', `${name}.yml`),
      [
        `name: ${name}`,
        'product_version: 1.0.0',
        "metadata_version: '2.1'",
        `label: ${name}`,
        'rank: 1',
        'minimum_version_for_upgrade: 1.0.0',
        "stemcell_criteria: {os: ubuntu-xenial, version: '97.17'}",
        'releases: []',
        requires,
        'property_blueprints: []',
        'form_types: []',
        'job_types: []',
        '',
      ].join('\n'),
    );
    execFileSync(path.join(root, 'target', 'debug', 'tileworks'), ['tile', 'pack', work, '-o', output], {
      stdio: 'pipe',
    });
    const upload = await request.post('/api/v0/available_products', {
      headers: { authorization: `Bearer ${token}` },
      multipart: {
        'product[file]': { name: path.basename(output), mimeType: 'application/octet-stream', buffer: readFileSync(output) },
      },
    });
    expect(upload.ok(), await upload.text()).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(output, { force: true });
  }
}

/// Places a staged product on the `review-deps` AZ and network (added beside whatever other
/// specs configured): every product needs Assign AZs and Networks before it can deploy, as in
/// Ops Manager, even one without jobs.
async function place(request: APIRequestContext, token: string, guid: string): Promise<void> {
  const azs = ((await api(request, token, 'GET', '/api/v0/staged/director/availability_zones')) as any)
    .availability_zones as any[];
  if (!azs.some((az) => az.name === 'review-deps-az')) {
    await api(request, token, 'PUT', '/api/v0/staged/director/availability_zones', {
      availability_zones: [...azs, { name: 'review-deps-az' }],
    });
  }
  const networks = (((await api(request, token, 'GET', '/api/v0/staged/director/networks')) as any).networks ??
    []) as any[];
  if (!networks.some((n) => n.name === 'review-deps-net')) {
    await api(request, token, 'PUT', '/api/v0/staged/director/networks', {
      icmp_checks_enabled: false,
      networks: [
        ...networks,
        {
          name: 'review-deps-net',
          subnets: [{
            iaas_identifier: 'review-deps-net', cidr: '10.0.130.0/24', gateway: '10.0.130.1', dns: '10.0.0.2',
            reserved_ip_ranges: '10.0.130.1-10.0.130.9', availability_zone_names: ['review-deps-az'],
          }],
        },
      ],
    });
  }
  await api(request, token, 'PUT', `/api/v0/staged/products/${guid}/networks_and_azs`, {
    networks_and_azs: {
      network: { name: 'review-deps-net' },
      singleton_availability_zone: { name: 'review-deps-az' },
      other_availability_zones: [{ name: 'review-deps-az' }],
    },
  });
}

/// The GUID of the staged `name`, importing, staging and placing it first when needed.
async function staged(request: APIRequestContext, token: string, name: string, requires = ''): Promise<string> {
  const list = (await api(request, token, 'GET', '/api/v0/staged/products')) as any[];
  const found = list.find((p) => p.type === name)?.guid as string | undefined;
  if (found) return found;
  const available = (await api(request, token, 'GET', '/api/v0/available_products')) as any[];
  if (!available.some((p) => p.name === name)) await importTile(request, token, name, requires);
  const guid = (await api(request, token, 'POST', '/api/v0/staged/products', { name, product_version: '1.0.0' }))
    .guid as string;
  await place(request, token, guid);
  return guid;
}

test('Review Pending Changes: Depends on, Changes, dependencies forced into the run, Ignore warnings', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const token = await apiToken(request);
  const base = await staged(request, token, BASE);
  const opt = await staged(request, token, OPT);
  const app = await staged(
    request,
    token,
    APP,
    `requires_product_versions:\n- {name: ${BASE}, version: '~> 1.0'}\n- {name: ${OPT}, version: '>= 2.0', optional: true}\n- {name: e2e-deps-absent, version: '>= 1', optional: true}`,
  );
  try {
    await logIn(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goto('/review');
    await waitForHydration(page, '.review-layout');

    const appRow = page.locator(`li.review-product[data-guid="${app}"]`);
    const baseRow = page.locator(`li.review-product[data-guid="${base}"]`);
    const optRow = page.locator(`li.review-product[data-guid="${opt}"]`);

    // --- Depends on: green (staged at 1.0.0, pending), red (optional, another version), gray.
    const depends = appRow.locator('.review-depends');
    await expect(depends.getByRole('heading', { name: 'Depends on' })).toBeVisible();
    const onBase = depends.locator(`li[data-dependency="${BASE}"]`);
    await expect(onBase).toHaveClass(/dep-green/);
    await expect(onBase).toContainText(`${BASE} ~> 1.0`);
    await expect(onBase).toContainText('v1.0.0 staged, deployed in the same Apply Changes');
    const onOpt = depends.locator(`li[data-dependency="${OPT}"]`);
    await expect(onOpt).toHaveClass(/dep-red/);
    await expect(onOpt).toContainText('(optional)');
    await expect(onOpt).toContainText('v1.0.0 does not satisfy >= 2.0');
    const onAbsent = depends.locator('li[data-dependency="e2e-deps-absent"]');
    await expect(onAbsent).toHaveClass(/dep-gray/);
    await expect(onAbsent).toContainText('neither staged nor deployed');
    await expect(baseRow.locator('.review-depends')).toHaveCount(0);

    // --- Changes: a new install, and the stemcell it gets.
    const changes = appRow.locator('.review-changes');
    await expect(changes.getByRole('heading', { name: 'Changes' })).toBeVisible();
    await expect(changes.locator('li').first()).toHaveText('New install of v1.0.0');
    await expect(changes.locator('li[data-kind="stemcell"]')).toContainText('Stemcell added: ubuntu-xenial');

    // --- Selection: new products start selected; the app locks the base it depends on.
    const appBox = appRow.getByRole('checkbox', { name: `Deploy ${APP}` });
    const baseBox = baseRow.getByRole('checkbox', { name: `Deploy ${BASE}` });
    const optBox = optRow.getByRole('checkbox', { name: `Deploy ${OPT}` });
    await expect(appBox).toBeChecked();
    await expect(baseBox).toBeChecked();
    await expect(baseBox).toBeDisabled();
    await expect(baseRow.locator('.forced-note')).toHaveText(
      `Required by ${APP}: it has pending changes, so it deploys in the same Apply Changes`,
    );
    // The optional dependency at another version is not forced.
    await expect(optBox).toBeEnabled();

    await appBox.uncheck();
    await expect(baseBox).toBeEnabled();
    await expect(baseBox).toBeChecked(); // still the operator's own choice
    await expect(baseRow.locator('.forced-note')).toHaveCount(0);
    await baseBox.uncheck();
    await expect(baseBox).not.toBeChecked();
    // Checking the app checks the base again, and locks it.
    await appBox.check();
    await expect(baseBox).toBeChecked();
    await expect(baseBox).toBeDisabled();
    await expect(baseRow.locator('.forced-note')).toContainText(`Required by ${APP}`);

    // --- Warnings for this selection, and the Ignore warnings checkbox.
    const warnings = page.locator('.review-apply-warnings');
    await expect(warnings).toContainText(`${APP}: optional dependency ${OPT} >= 2.0: v1.0.0 does not satisfy >= 2.0`);
    const ignore = page.getByLabel('Ignore warnings');
    await expect(ignore).not.toBeChecked();
    await expect(page.locator('.review-legend')).toContainText('stop it unless Ignore warnings is checked');

    // (Apply Changes itself, refused for warnings unless Ignore warnings is checked, is covered
    // by review.spec.ts and server/tests/review_deps.rs: placed, these tiles would deploy.)
    await ignore.check();
    await expect(ignore).toBeChecked();
    await page.screenshot({ path: '/tmp/e2e-review-deps.png', fullPage: true });

    // Leaving the app out leaves no warning.
    await appBox.uncheck();
    await expect(warnings).toHaveCount(0);
  } finally {
    // Never deployed: unstaging removes them, so later specs see the page as before.
    for (const guid of [app, base, opt]) {
      await api(request, token, 'DELETE', `/api/v0/staged/products/${guid}`, {});
    }
  }
});

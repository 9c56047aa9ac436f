// Job-spec warnings in the browser (issue 14): a tile whose job template sets a property its
// release's job spec does not declare (`greting`) and names a job the release lacks (`wrker`) is
// imported through the dashboard's Import Product, and the import message lists both with their
// suggestions; the product's settings page shows them too. Its selector's default names no option,
// which Ops Manager tolerates: a lint warning, shown in the same places. The tile and its release tarball are
// written here (the same tile as server/tests/support/spec_tile.rs) and packed with
// `tileworks tile pack`.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, apiToken, logIn, waitForHydration } from './helpers';

const TILE = { name: 'spec-demo', version: '1.0.0', label: 'Spec Demo' };

const METADATA = `name: spec-demo
label: Spec Demo
description: A tile whose manifest disagrees with its release's job specs
icon_image: iVBORw0KGgo=
product_version: 1.0.0
minimum_version_for_upgrade: 0.0.1
metadata_version: '2.1'
rank: 1
serial: false
stemcell_criteria:
  os: ubuntu-xenial
  version: '97.17'
releases:
- name: spec-demo-release
  file: spec-demo-release-1.0.tgz
  version: '1.0'
property_blueprints:
- name: greeting
  type: string
  configurable: true
  default: hello
- name: mode
  type: selector
  configurable: true
  default: non-existant-value
  option_templates:
  - name: simple
    select_value: Simple
form_types:
- name: settings
  label: Settings
  description: Demo settings
  property_inputs:
  - reference: .properties.greeting
    label: Greeting
  - reference: .properties.mode
    label: Mode
job_types:
- name: web
  label: Web
  resource_label: Web
  static_ip: 0
  dynamic_ip: 1
  max_in_flight: 1
  single_az_only: false
  templates:
  - name: web
    release: spec-demo-release
    manifest: |
      greting: (( .properties.greeting.value ))
      port: 8080
  - name: wrker
    release: spec-demo-release
  resource_definitions:
  - {name: ram, type: integer, configurable: true, default: 1024}
  - {name: ephemeral_disk, type: integer, configurable: true, default: 2048}
  - {name: persistent_disk, type: integer, configurable: true, default: 0}
  - {name: cpu, type: integer, configurable: true, default: 1}
  instance_definition:
    name: instances
    type: integer
    configurable: true
    default: 1
`;

/// A release tarball as `bosh create-release --tarball` lays it out: `web` declares `greeting`
/// and `port`, `worker` nothing.
function writeRelease(file: string) {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-spec-release-'));
  const jobs: [string, string[]][] = [
    ['web', ['greeting', 'port']],
    ['worker', []],
  ];
  mkdirSync(path.join(work, 'jobs'));
  let manifest = "name: spec-demo-release\nversion: '1.0'\njobs:\n";
  for (const [job, properties] of jobs) {
    manifest += `- name: ${job}\n  version: abc\n  fingerprint: abc\n`;
    const jobDir = mkdtempSync(path.join(tmpdir(), `e2e-spec-job-${job}-`));
    const spec = properties.map((p) => `  ${p}:\n    description: a setting\n`).join('');
    writeFileSync(path.join(jobDir, 'job.MF'), `---\nname: ${job}\ntemplates: {}\nproperties:\n${spec}`);
    execFileSync('tar', ['-czf', path.join(work, 'jobs', `${job}.tgz`), '-C', jobDir, './job.MF']);
    rmSync(jobDir, { recursive: true, force: true });
  }
  writeFileSync(path.join(work, 'release.MF'), manifest);
  execFileSync('tar', ['-czf', file, '-C', work, './release.MF', './jobs']);
  rmSync(work, { recursive: true, force: true });
}

/// The tile packed into a .pivotal; returns its path.
function packSpecTile(): string {
  const root = path.resolve(__dirname, '..', '..');
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-spec-tile-'));
  mkdirSync(path.join(work, 'metadata'));
  mkdirSync(path.join(work, 'releases'));
  writeFileSync(path.join(work, 'metadata', 'spec-demo.yml'), METADATA);
  writeRelease(path.join(work, 'releases', 'spec-demo-release-1.0.tgz'));
  const output = path.join(tmpdir(), `e2e-spec-demo-${process.pid}.pivotal`);
  execFileSync(path.join(root, 'target', 'debug', 'tileworks'), ['tile', 'pack', work, '-o', output], {
    stdio: 'pipe',
  });
  rmSync(work, { recursive: true, force: true });
  return output;
}

const PROPERTY =
  'property `greting` is not declared by job `web` of release spec-demo-release 1.0 (BOSH ignores it); did you mean `greeting`?';
const LINT =
  'metadata.property_blueprints[1].default: default `non-existant-value` of selector `mode` names no option (select_values: Simple)';
const JOB = 'release spec-demo-release 1.0 has no job `wrker`; did you mean `worker`?';

test('job-spec warnings show in the import message and on the product page', async ({ page, request }) => {
  // Start from nothing, whatever ran before.
  const token = await apiToken(request);
  const staged = ((await api(request, token, 'GET', '/api/v0/staged/products')) as any[]).find(
    (p) => p.type === TILE.name,
  );
  if (staged) await api(request, token, 'DELETE', `/api/v0/staged/products/${staged.guid}`);
  const available = (await api(request, token, 'GET', '/api/v0/available_products')) as any[];
  if (available.some((p) => p.name === TILE.name)) {
    await api(request, token, 'DELETE', `/api/v0/available_products?product_name=${TILE.name}&version=${TILE.version}`);
  }

  const file = packSpecTile();
  await logIn(page);
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page, '.dashboard-layout');
  await page.getByLabel('Product file (.pivotal)').setInputFiles(file);
  await page.getByRole('button', { name: 'Import Product' }).click();
  const message = page.locator('section.import').getByRole('status');
  await expect(message).toContainText('Product imported.', { timeout: 30_000 });
  rmSync(file, { force: true });
  await expect(message).toContainText("Its releases' job specs do not declare these");
  // Three lines: the lint warning (what Ops Manager tolerates), then the two job-spec ones.
  await expect(message.getByRole('listitem')).toHaveCount(3);
  await expect(message).toContainText('Its metadata has what Ops Manager tolerates');
  await expect(message).toContainText(LINT);
  await expect(message).toContainText(PROPERTY);
  await expect(message).toContainText(JOB);

  // Staged, its settings page says the same above the forms, rendered on the server.
  const row = page.locator(`li.available-product[data-product="${TILE.name}"]`);
  await expect(row).toContainText(TILE.version);
  const guid = (await api(request, token, 'POST', '/api/v0/staged/products', {
    name: TILE.name,
    product_version: TILE.version,
  })).guid as string;
  await page.goto(`/products/${guid}/settings`);
  const warnings = page.locator('ul.product-job-spec-warnings');
  await expect(warnings).toContainText("Its releases' job specs do not declare these");
  await expect(warnings).toContainText(PROPERTY);
  await expect(warnings).toContainText(JOB);
  await expect(page.locator('ul.product-lint-warnings')).toContainText(LINT);
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();

  // A tile without findings shows no such list.
  const pks = ((await api(request, token, 'GET', '/api/v0/staged/products')) as any[]).find(
    (p) => p.type === 'pivotal-container-service',
  );
  if (pks) {
    await page.goto(`/products/${pks.guid}/settings`);
    await expect(page.locator('main.settings h1')).toBeVisible();
    await expect(page.locator('ul.product-job-spec-warnings')).toHaveCount(0);
    await expect(page.locator('ul.product-lint-warnings')).toHaveCount(0);
  }
  await api(request, token, 'DELETE', `/api/v0/staged/products/${guid}`);
});

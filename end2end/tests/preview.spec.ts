import { expect, Locator, Page, test } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitForHydration } from './helpers';

// `tileworks tile preview` in a browser: the tests' own small tile (end2end/fixtures/preview-tile)
// is copied to a temporary folder and previewed; the test types into its form (the product's
// real validation), edits the metadata file (the open page reloads by itself and shows the
// change), breaks it (the page shows the error with its YAML path and line) and fixes it (the
// form comes back). The preview is a server of its own, not the suite's.

const root = path.resolve(__dirname, '..', '..');
let preview: ChildProcess;
let url: string;
let tile: string;
let tmp: string;

function metadataFile() {
  return path.join(tile, 'metadata', 'preview-demo.yml');
}

/// Replaces `from` (which must be there) with `to` in the previewed metadata, as an editor saves.
function edit(from: string, to: string) {
  const text = readFileSync(metadataFile(), 'utf8');
  expect(text, `${from} is in the metadata`).toContain(from);
  writeFileSync(metadataFile(), text.replace(from, to));
}

function field(page: Page, reference: string): Locator {
  return page.locator(`.field[data-reference="${reference}"]`);
}

test.beforeAll(async () => {
  tile = mkdtempSync(path.join(tmpdir(), 'e2e-preview-tile-'));
  tmp = mkdtempSync(path.join(tmpdir(), 'e2e-preview-tmp-'));
  cpSync(path.resolve(__dirname, '..', 'fixtures', 'preview-tile'), tile, { recursive: true });
  preview = spawn(
    path.join(root, 'target', 'debug', 'tileworks'),
    ['tile', 'preview', tile, '--listen', '127.0.0.1:0', '--site-root', path.join(root, 'target', 'site')],
    { cwd: root, env: { ...process.env, TMPDIR: tmp, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the preview did not start within 60 s')), 60_000);
    let seen = '';
    preview.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(/listening on (http\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    preview.on('exit', (code) => reject(new Error(`the preview exited early with ${code}:\n${seen}`)));
  });
});

test.afterAll(async () => {
  const exited = new Promise((resolve) => preview.on('exit', resolve));
  preview.kill('SIGINT');
  await exited;
  rmSync(tile, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

test('preview: the real form and validation, reloaded on edits, metadata errors with path and line', async ({ page }) => {
  // No login: the preview's page leads to the tile's settings page, as operators see it.
  await page.goto(`${url}/preview`);
  await expect(page).toHaveURL(/\/products\/preview-demo-[0-9a-f]+\/settings$/);
  await expect(page.getByRole('heading', { name: 'Greetings' })).toBeVisible();
  await waitForHydration(page, 'form.settings-form');

  // The product's own validation, in the browser as the author types.
  await page.getByLabel('Greeting').fill('Hello World');
  await expect(field(page, '.properties.greeting').locator(':scope > .field-errors')).toHaveText(
    'Use lower-case letters a to z only.',
  );
  await page.getByLabel('Greeting').fill('hello');
  await expect(field(page, '.properties.greeting').locator(':scope > .field-errors')).toHaveCount(0);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Settings saved.');

  // The author renames a label and adds a property: the page reloads by itself.
  edit('    label: Greeting\n', '    label: Salutation\n');
  edit(
    '- name: worker_count\n',
    '- name: motto\n  type: string\n  configurable: true\n  default: keep going\n- name: worker_count\n',
  );
  edit('  - reference: .properties.worker_count\n', '  - reference: .properties.motto\n    label: Motto\n  - reference: .properties.worker_count\n');
  await expect(page.getByLabel('Salutation')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByLabel('Motto')).toHaveValue('keep going');
  // The saved value survived the reload of the metadata.
  await expect(page.getByLabel('Salutation')).toHaveValue('hello');
  await page.screenshot({ path: '/tmp/e2e-preview-reloaded.png', fullPage: true });

  // A reference to no property: the page shows the error with its YAML path and line.
  edit('  - reference: .properties.motto\n', '  - reference: .properties.mottoo\n');
  const errors = page.locator('ul.preview-errors');
  await expect(errors).toBeVisible({ timeout: 15_000 });
  await expect(errors).toContainText('metadata/preview-demo.yml, line 25, column 5');
  await expect(errors).toContainText('form_types[0].property_inputs[1].reference');
  await expect(errors).toContainText('.properties.mottoo');
  await expect(page.getByLabel('Salutation')).toHaveCount(0);
  await page.screenshot({ path: '/tmp/e2e-preview-error.png', fullPage: true });

  // Broken YAML: its line.
  edit('  - reference: .properties.mottoo\n', '  - reference: [.properties.motto\n');
  await expect(errors).toContainText('yaml-readable', { timeout: 15_000 });
  await expect(errors).toContainText(/metadata\/preview-demo\.yml, line \d+/);

  // Fixed: the form comes back, with the values.
  edit('  - reference: [.properties.motto\n', '  - reference: .properties.motto\n');
  await expect(page.getByLabel('Salutation')).toHaveValue('hello', { timeout: 15_000 });
  await expect(page.getByLabel('Motto')).toHaveValue('keep going');
  await waitForHydration(page, 'form.settings-form');
  await page.getByLabel('Worker count').fill('12');
  await expect(field(page, '.properties.worker_count').locator(':scope > .field-errors')).toHaveText(
    'Value must be less than or equal to 9',
  );
});

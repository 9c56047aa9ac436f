import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Starts the debug build of Tileworks (built by `make test` before this runs) with a fresh data
// dir on a free port, and stops it when the suite ends.
export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const binary = path.join(root, 'target', 'debug', 'tileworks');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tileworks-e2e-'));
  const password = 'e2e-admin-password';

  const server = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: root,
    env: {
      ...process.env,
      TILEWORKS_ADMIN_USER: 'admin',
      TILEWORKS_ADMIN_PASSWORD: password,
      TILEWORKS_SITE_ROOT: path.join(root, 'target', 'site'),
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Tileworks did not start within 60 s')), 60_000);
    let seen = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(/listening on (http\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`Tileworks exited early with ${code}:\n${seen}`)));
  });

  process.env.TILEWORKS_URL = url;
  process.env.TILEWORKS_ADMIN_PASSWORD = password;

  return async () => {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
}

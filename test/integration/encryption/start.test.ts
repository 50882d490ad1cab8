import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../infra/temporal/dev-server';
import { childEnv } from '../../harness/settings';

/**
 * `npm start` (infra/start.ts) as a user runs it, on free ports and a fresh data dir: it generates the
 * payload key ring once (0600, path printed), runs the codec server, and starts the Web UI with the
 * codec endpoint configured; Ctrl-C stops it all.
 */
const dir = mkdtempSync(join(tmpdir(), 'mandate-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('npm start encrypts with a key ring generated in the data dir and serves the Web UI through the codec server', async () => {
  const [port, uiPort, approvalsPort, codecPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = childEnv({
    MANDATE_DATA_DIR: dir,
    MANDATE_TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    MANDATE_TEMPORAL_UI_PORT: String(uiPort),
    MANDATE_APPROVALS_PORT: String(approvalsPort),
    MANDATE_CODEC_PORT: String(codecPort),
  });
  // The product's defaults, not the test run's ring.
  delete env.MANDATE_ENCRYPTION_KEYS_FILE;
  const start = resolve(__dirname, '..', '..', '..', 'infra', 'start.ts');
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), start], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    for (let i = 0; i < 600 && !output.includes('Ctrl-C stops everything.'); i++) {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const keysFile = join(dir, 'keys', 'payload-keys.json');
    const codecUrl = `http://127.0.0.1:${codecPort}`;
    expect(output).toMatch(
      new RegExp(
        `Payload encryption  AES-256-GCM, current key k\\d{8}-[0-9a-f]{6} \\(key ring ${keysFile}, generated now, 0600\\)`,
      ),
    );
    expect(output).toContain(`Codec server        ${codecUrl}/`);
    expect(output).toContain(`--codec-endpoint ${codecUrl} --codec-auth "Bearer <token>"`);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(keysFile, 'utf8')).keys).toHaveLength(1);

    const settings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as {
      Codec: { Endpoint: string };
    };
    expect(settings.Codec.Endpoint).toBe(codecUrl);
    const anonymous = await fetch(`${codecUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(anonymous.status).toBe(401);
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  expect(output).toContain('Stopped.');
});

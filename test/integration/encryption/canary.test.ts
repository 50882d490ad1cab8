import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { missionDataConverter } from '../../../client/data-converter';
import { startMission } from '../../../client/missions';
import { parseAuditConfig } from '../../../config';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import type { MissionResult } from '../../../contract/mission';
import { freePort, startDevServer } from '../../../infra/temporal/dev-server';
import type { DevServer } from '../../../infra/temporal/dev-server';
import { provisionTemporalCli } from '../../../infra/temporal/provision-cli';
import { auditDepsFrom } from '../../../workers/audit-deps';
import { buildWorkerDeps } from '../../../workers/deps';
import type { RunningWorker } from '../../../workers/worker';
import { startMissionWorker } from '../../../workers/worker';
import { installTestRuntime, testKeyRing } from '../../harness/context';
import { harness } from '../../harness/settings';
import type { CliServer } from '../../support/cli-server';
import { startCliServer } from '../../support/cli-server';
import { runCli } from '../../support/run-cli';
import { launchChromium } from '../approvals-ui/browser';
import { approvalsSigner, TEST_SIGNERS } from '../../support/trust';
import { catalog } from '../helpers';

/**
 * Issue 11's acceptance on a dev server of its own with a database file: canaries from a mission's
 * input and reads never reach that file, nor `temporal workflow show` without the codec server; with
 * it (authenticated) and in the Web UI of a signed-in reader, they appear. A mission run without
 * encryption (the control) shows the canary scan can find what is there.
 */
const canary = (what: string) => `CANARY-${what}-${randomBytes(6).toString('hex')}`;
const NOTE = canary('note'); // the mission's input (the case text a person typed)
const READ = canary('read'); // the case subject, which the mission reads from the system of record
const CONTROL = canary('control'); // the same, in a mission run without encryption

const dir = mkdtempSync(join(tmpdir(), 'mandate-canary-'));
const dbFile = join(dir, 'temporal.db');
const enterpriseDb = join(dir, 'enterprise.db');
const tokensFile = join(dir, 'tokens.json');
let server: DevServer;
let native: NativeConnection;
let connection: Connection;
let workers: RunningWorker[] = [];
let codec: CliServer;
let codecUrl: string;
let token: string;
let missionId: string;
let controlId: string;
let temporalCli: string;

beforeAll(async () => {
  installTestRuntime();
  const [uiPort, codecPort] = [await freePort(), await freePort()];
  codecUrl = `http://127.0.0.1:${codecPort}`;
  server = await startDevServer({ dbFile, uiPort, uiCodecEndpoint: codecUrl, readyTimeoutMs: 120_000 });
  temporalCli = await provisionTemporalCli();
  seedEnterpriseDb(enterpriseDb);
  const db = new Database(enterpriseDb);
  db.prepare('UPDATE cases SET subject = ? WHERE case_id = ?').run(READ, 'CASE-1001');
  db.prepare('UPDATE cases SET subject = ? WHERE case_id = ?').run(CONTROL, 'CASE-1005');
  db.close();

  native = await NativeConnection.connect({ address: server.address });
  connection = await Connection.connect({ address: server.address });
  const dataConverter = missionDataConverter(testKeyRing());
  const worker = (taskQueue: string, encrypted: boolean) =>
    startMissionWorker({
      connection: native,
      taskQueue,
      deps: buildWorkerDeps({ enterpriseDb, trustedSigners: TEST_SIGNERS }),
      workflowBundle: { codePath: harness().bundlePath },
      audit: auditDepsFrom(parseAuditConfig({}, { dataDir: dir, namespace: 'default' })),
      ...(encrypted ? { dataConverter } : {}),
    });
  workers = [await worker('canary', true), await worker('canary-plain', false)];
  const run = async (client: Client, taskQueue: string, caseId: string, note: string) => {
    const id = await startMission(client, {
      catalog,
      taskQueue,
      missionType: 'customer-refund',
      input: { caseId, note },
      initiator: 'dana.desk@example.com',
      signer: approvalsSigner,
    });
    return { id, result: (await client.workflow.getHandle(id).result()) as MissionResult };
  };
  const encrypted = await run(new Client({ connection, dataConverter }), 'canary', 'CASE-1001', NOTE);
  expect(encrypted.result.verdict).toBe('completed');
  missionId = encrypted.id;
  const control = await run(new Client({ connection }), 'canary-plain', 'CASE-1005', CONTROL);
  expect(control.result.verdict).toBe('declined');
  controlId = control.id;

  const created = await runCli({}, [
    'token',
    'create',
    '--subject',
    'auditor@example.com',
    '--roles',
    'decrypt',
    '--file',
    tokensFile,
  ]);
  expect(created.code).toBe(0);
  token = created.stdout.trim().split('\n').at(-1)!;
  codec = await startCliServer(
    {
      MANDATE_APPROVALS_TOKENS_FILE: tokensFile,
      // Secure cookies, as under `npm start`: Chromium accepts them from http://127.0.0.1.
      MANDATE_TEMPORAL_UI_PORT: String(uiPort),
    },
    ['codec-server', '--port', String(codecPort)],
    /codec server on (http:\/\/\S+)/,
  );
  expect(codec.match[1]).toBe(codecUrl);
});

afterAll(async () => {
  await codec?.stop();
  for (const w of workers) await w.stop();
  await native?.close();
  await connection?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte the dev server keeps: the database and its WAL/journal files. */
function databaseBytes(): Buffer {
  return Buffer.concat(
    readdirSync(dir)
      .filter((name) => name.startsWith('temporal.db'))
      .map((name) => readFileSync(join(dir, name))),
  );
}

function temporal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(temporalCli, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}
/** What a reader of the output can see: the text, and every base64 payload `data` in it decoded. */
function readable(output: string): string {
  const decoded = [...output.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)].map((m) =>
    Buffer.from(m[1], 'base64').toString('utf8'),
  );
  return [output, ...decoded].join('\n');
}
const show = (id: string, ...extra: string[]) =>
  temporal(['workflow', 'show', '-w', id, '--address', server.address, '--output', 'json', ...extra]);

test("the canaries of a mission's input and reads never reach the Temporal database file; the unencrypted control's does", async () => {
  const bytes = databaseBytes();
  expect(bytes.length).toBeGreaterThan(0);
  expect(bytes.includes(CONTROL)).toBe(true); // the scan finds plaintext when there is some
  expect(bytes.includes(NOTE)).toBe(false);
  expect(bytes.includes(READ)).toBe(false);
  expect(bytes.includes(Buffer.from(NOTE).toString('base64').slice(0, 24))).toBe(false);
});

test('temporal workflow show: ciphertext without the codec endpoint; plaintext with it and a token; nothing without the token', async () => {
  const plain = await show(missionId);
  expect(plain.code).toBe(0);
  expect(plain.stdout).toContain(Buffer.from('binary/encrypted').toString('base64'));
  expect(readable(plain.stdout)).not.toContain(NOTE);
  expect(readable(plain.stdout)).not.toContain(READ);
  expect(readable((await show(controlId)).stdout)).toContain(CONTROL); // the check sees plaintext payloads

  const decoded = await show(missionId, '--codec-endpoint', codecUrl, '--codec-auth', `Bearer ${token}`);
  expect(decoded.code).toBe(0);
  expect(readable(decoded.stdout)).toContain(NOTE);
  expect(readable(decoded.stdout)).toContain(READ);
  expect(codec.output()).toMatch(/decode \d+ payload\(s\) for auditor@example\.com \(token\)/);
  // The README's form: the detailed text shows the decoded payloads as they are; without the codec, ciphertext.
  const detailed = (...extra: string[]) =>
    temporal(['workflow', 'show', '-w', missionId, '--address', server.address, '--detailed', ...extra]);
  const detailedPlain = await detailed();
  expect(detailedPlain.code).toBe(0);
  expect(detailedPlain.stdout).not.toContain(NOTE);
  const detailedDecoded = await detailed('--codec-endpoint', codecUrl, '--codec-auth', `Bearer ${token}`);
  expect(detailedDecoded).toMatchObject({ code: 0, stdout: expect.stringContaining(NOTE) });
  expect(detailedDecoded.stdout).toContain(READ);

  const anonymous = await show(missionId, '--codec-endpoint', codecUrl);
  expect(readable(anonymous.stdout)).not.toContain(NOTE);
  expect(anonymous.code).not.toBe(0);
  const wrong = await show(missionId, '--codec-endpoint', codecUrl, '--codec-auth', 'Bearer mdt_forged');
  expect(readable(wrong.stdout)).not.toContain(NOTE);
  expect(wrong.code).not.toBe(0);
});

test('the codec server refuses unauthenticated requests and foreign origins', async () => {
  const history = JSON.parse((await show(missionId)).stdout) as {
    events: { workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }[];
  };
  const payloads = history.events[0].workflowExecutionStartedEventAttributes!.input.payloads;
  const decode = (headers: Record<string, string>) =>
    fetch(`${codecUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ payloads }),
    });
  expect((await decode({})).status).toBe(401);
  const foreign = await decode({ origin: 'https://evil.example', authorization: `Bearer ${token}` });
  expect(foreign.status).toBe(403);
  expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  const ok = (await (await decode({ authorization: `Bearer ${token}` })).json()) as { payloads: { data: string }[] };
  expect(Buffer.from(ok.payloads[0].data, 'base64').toString('utf8')).toContain(NOTE);
});

describe('the Temporal Web UI', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  test('shows the decoded input to a reader signed in at the codec server, and not before', async () => {
    const context = await browser.newContext();
    // The Web UI's own browser setting: this codec endpoint, with cross-origin credentials (the session cookie).
    await context.addInitScript((endpoint: string) => {
      // Runs in the page (tsconfig has no DOM types): the Web UI keeps these settings in localStorage.
      const storage = (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage;
      storage.setItem('overrideRemoteCodecConfiguration', 'true');
      storage.setItem('endpoint', JSON.stringify(endpoint));
      storage.setItem('includeCredentials', 'true');
    }, codecUrl);
    const page = await context.newPage();
    const workflowPage = `${server.uiAddress}/namespaces/default/workflows/${missionId}`;
    await page.goto(workflowPage);
    await page.getByText('customer-refund', { exact: false }).first().waitFor({ timeout: 60_000 });
    await page.waitForTimeout(3000);
    expect(await page.content()).not.toContain(NOTE);

    await page.goto(codecUrl);
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.getByTestId('who').waitFor();
    await page.goto(workflowPage);
    await page.getByText(NOTE, { exact: false }).first().waitFor({ timeout: 60_000 });
    expect(codec.output()).toMatch(/decode \d+ payload\(s\) for auditor@example\.com \(session\)/);
    await context.close();
  });
});

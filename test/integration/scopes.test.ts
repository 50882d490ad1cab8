import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { DEFAULT_CATALOG_DIR } from '../../catalog/catalog';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { observations, startRefund } from './helpers';

/** Reads run only within the scopes the mission definition declares; the model cannot widen them. */
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext('scopes');
  // A catalog whose customer-refund lacks refunds:read, while its playbook still reads refunds.
  const catalogDir = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  cpSync(DEFAULT_CATALOG_DIR, catalogDir, { recursive: true });
  const definitionPath = join(catalogDir, 'customer-refund', 'definition.json');
  const definition = JSON.parse(readFileSync(definitionPath, 'utf8'));
  definition.scopes = ['cases:read', 'orders:read'];
  writeFileSync(definitionPath, JSON.stringify(definition));
  await t.startWorker({ catalogDir });
});
afterAll(async () => t?.close());

test('an out-of-scope read is refused and observed, and nothing executes', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1001');
  const failure = await t.client.workflow
    .getHandle(id)
    .result()
    .catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const obs = await observations(t.client, id);
  const refused = obs.find((o) => o.kind === 'read_refused');
  expect(refused?.summary).toMatch(
    /refunds\.listForOrder needs scope refunds:read; the mission holds cases:read, orders:read/,
  );
  expect(refused?.detail).toMatchObject({ code: 'out_of_scope' });
  expect(obs.map((o) => o.kind)).not.toContain('execution');
  expect(t.query('SELECT * FROM refunds WHERE mission_id = ?', id)).toHaveLength(0);
});

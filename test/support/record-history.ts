import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { seedEnterpriseDb } from '../../activities/integrations/enterprise-db-seed';
import { Catalog } from '../../core/catalog';
import { decide, startMission } from '../../core/client/missions';
import { stateQuery } from '../../workflows/definitions';
import { startDevServer } from '../../infra/temporal/dev-server';
import { buildMissionDeps, createMissionWorker } from '../../workers/worker';

/**
 * Records the replay fixture: an approved customer-refund mission's full event history, in the JSON
 * format of `temporal workflow show --output json`. Re-record (and review the diff) only when a
 * workflow change is meant to be incompatible and is versioned with `patched`.
 *
 *   npx tsx test/support/record-history.ts
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer();
  const dbPath = join(mkdtempSync(join(tmpdir(), 'mandate-record-')), 'enterprise.db');
  seedEnterpriseDb(dbPath);
  const deps = buildMissionDeps({ enterpriseDb: dbPath });
  const native = await NativeConnection.connect({ address: server.address });
  const worker = await createMissionWorker({ connection: native, taskQueue: 'record', deps });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  try {
    const id = await startMission(client, {
      catalog: Catalog.load(),
      taskQueue: 'record',
      missionType: 'customer-refund',
      input: { caseId: 'CASE-1002' },
      initiator: 'dana.desk',
    });
    const handle = client.workflow.getHandle(id);
    while (!(await handle.query(stateQuery)).pending.length) await new Promise((r) => setTimeout(r, 100));
    await decide(client, id, {
      actionId: 'a1',
      decision: 'approve',
      approver: 'sam.supervisor',
      roles: ['supervisor'],
      reason: 'checked',
    });
    await handle.result();
    const out = resolve(__dirname, '..', 'fixtures', 'histories', 'customer-refund-approved.json');
    writeFileSync(out, `${JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory())), null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    worker.shutdown();
    await running;
    deps.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

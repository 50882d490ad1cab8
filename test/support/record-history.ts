import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startEmbeddedStack } from '../../infra/embedded-stack';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { decryptHistory } from '../../audit/decrypt';
import type { HistoryJson } from '../../audit/history';
import { Catalog } from '../../catalog/catalog';
import { startMission } from '../../client/missions';
import { castVote } from '../../client/votes';
import { stateQuery } from '../../contract/messages';

/**
 * Records the replay fixture: an approved customer-refund mission's full event history, in the JSON
 * format of `temporal workflow show --output json`. Re-record (and review the diff) only when a
 * workflow change is meant to be incompatible and is versioned with `patched`. The stack encrypts, as
 * every stack does; the fixture is written decrypted, so it replays without the throwaway key.
 *
 *   npx tsx test/support/record-history.ts
 */
async function main(): Promise<void> {
  const stack = await startEmbeddedStack({ name: 'record' });
  const { client, taskQueue } = stack;
  try {
    const id = await startMission(client, {
      catalog: Catalog.load(),
      taskQueue,
      missionType: 'customer-refund',
      input: { caseId: 'CASE-1002' },
      initiator: 'dana.desk',
      signer: stack.approvals,
    });
    const handle = client.workflow.getHandle(id);
    let pending = (await handle.query(stateQuery)).pending[0];
    while (!pending) {
      await new Promise((r) => setTimeout(r, 100));
      pending = (await handle.query(stateQuery)).pending[0];
    }
    await castVote(
      client,
      id,
      stack.approvals.signVote(id, {
        actionId: 'a1',
        decision: 'approve',
        approver: 'sam.supervisor',
        roles: ['supervisor'],
        reason: 'checked',
        paramsHash: pending.paramsHash,
        policyVersion: pending.policyVersion,
        step: pending.step,
      }),
    );
    await handle.result();
    const out = resolve(__dirname, '..', 'fixtures', 'histories', 'customer-refund-approved.json');
    const stored = JSON.parse(historyToJSON(await handle.fetchHistory())) as HistoryJson;
    writeFileSync(out, `${JSON.stringify(decryptHistory(stored, stack.keys.ring), null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

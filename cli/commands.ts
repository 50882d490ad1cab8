import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { Catalog } from '../catalog/catalog';
import type { AttestationSigner } from '../core/signer';
import type { MissionDetail } from '../client/missions';
import { getMission, listMissions, startMission } from '../client/missions';
import type { PendingItem } from '../client/votes';
import { castVote, listPendingApprovals, pendingAction } from '../client/votes';
import { observationsQuery } from '../contract/messages';
import { displayText, formatAmount, relativeTime } from '../core/format';
import { quote } from '../core/visibility';
import type { Column } from './output';
import { printJson, table } from './output';
import { railTable, verdictLine } from './rail';

/**
 * The CLI's commands as plain functions over a Temporal client, so the demo and tests run exactly
 * what `mandate` runs. Each prints its result; errors propagate to main, which sets the exit code.
 */
export interface CommandContext {
  client: Client;
  catalog: Catalog;
  taskQueue: string;
  json: boolean;
  out?: (line: string) => void;
  /** The operators' break-glass key, when configured: it signs the `--direct` path. */
  operator?: AttestationSigner;
}

/** How to enable the break-glass path, when a command needs it and no key is configured. */
export const NO_OPERATOR_KEY =
  "--direct signs with the operators' break-glass key, and none is configured: set MANDATE_OPERATOR_KEY to its " +
  'Ed25519 private key (PKCS#8 PEM, or a path) and list its public key with "breakGlass": true in ' +
  'MANDATE_TRUSTED_SIGNERS (`npm start` generates one in <data dir>/keys/operator-break-glass.pem)';

/** The break-glass signer, or a clear error saying how to configure one. */
export function operatorSigner(ctx: CommandContext): AttestationSigner {
  if (!ctx.operator) throw new Error(NO_OPERATOR_KEY);
  return ctx.operator;
}

const say = (ctx: CommandContext, line: string) => (ctx.out ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);

/** Reads mission input from a file path or `-` (stdin). */
export function readInput(source: string): unknown {
  const text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(
      `mission input ${source === '-' ? 'from stdin' : source} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

export async function missionStart(
  ctx: CommandContext,
  type: string,
  input: unknown,
  initiator: string,
  provider?: string,
): Promise<string> {
  // The operators' path: the break-glass key vouches for the initiator (marked so on the rail).
  const missionId = await startMission(ctx.client, {
    catalog: ctx.catalog,
    taskQueue: ctx.taskQueue,
    missionType: type,
    input,
    initiator,
    ...(provider ? { provider } : {}),
    signer: operatorSigner(ctx),
  });
  // With a chosen provider, wait for its first answer: a provider the worker cannot use (no key,
  // outside the data-class boundary) fails the mission at once, and the operator should hear why.
  if (provider) await firstReasoningStep(ctx, missionId);
  if (ctx.json) printJson({ missionId, missionType: type, initiator, ...(provider ? { provider } : {}) });
  else say(ctx, `started ${missionId} (${type}) for ${initiator}${provider ? ` with ${provider}` : ''}`);
  return missionId;
}

async function firstReasoningStep(ctx: CommandContext, missionId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const handle = ctx.client.workflow.getHandle(missionId);
  while (Date.now() < deadline) {
    const { status } = await handle.describe();
    if (status.name === 'FAILED') {
      const message = await handle.result().then(
        () => 'failed',
        (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
      );
      throw new Error(`mission ${missionId} failed at once: ${message}`);
    }
    if (status.name !== 'RUNNING') return;
    const observations = await handle.query(observationsQuery).catch(() => []);
    if (observations.some((o) => o.kind === 'reasoning')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function missionList(ctx: CommandContext, options: { status?: string; limit?: number }): Promise<void> {
  const where = options.status ? `MissionStatus = ${quote(options.status)}` : undefined;
  const missions = await listMissions(ctx.client, { where, limit: options.limit });
  if (ctx.json) return printJson(missions);
  say(
    ctx,
    table(missions, [
      { header: 'mission', value: (m) => m.missionId },
      { header: 'type', value: (m) => m.missionType },
      { header: 'status', value: (m) => m.status },
      { header: 'started', value: (m) => m.startTime },
      { header: 'closed', value: (m) => m.closeTime },
    ]),
  );
}

export async function missionShow(ctx: CommandContext, missionId: string): Promise<MissionDetail> {
  const detail = await getMission(ctx.client, missionId);
  if (ctx.json) {
    printJson(detail);
    return detail;
  }
  const { state } = detail;
  say(ctx, `${state.missionId}  ${state.missionType}  status=${state.status}  initiator=${state.initiator}`);
  if (state.summary) say(ctx, verdictLine(state));
  if (detail.failure) say(ctx, `failed: ${displayText(detail.failure, 600)}`);
  for (const p of state.pending)
    say(
      ctx,
      `pending: ${p.actionId} ${p.operation} ${formatAmount(p.params)} tier=${p.tier} deadline ${relativeTime(p.deadline)}`,
    );
  say(ctx, '');
  say(ctx, railTable(detail.observations));
  return detail;
}

type QueueRow = Pick<
  PendingItem,
  'missionId' | 'actionId' | 'operation' | 'params' | 'tier' | 'initiator' | 'deadline'
>;

/** The Decision Queue's columns, shared by the direct and the service-backed `approvals list`. */
export const QUEUE_COLUMNS: Column<QueueRow>[] = [
  { header: 'mission', value: (i) => i.missionId },
  { header: 'action', value: (i) => i.actionId },
  { header: 'operation', value: (i) => i.operation },
  { header: 'amount', value: (i) => formatAmount(i.params) },
  { header: 'tier', value: (i) => i.tier },
  { header: 'initiator', value: (i) => i.initiator },
  { header: 'deadline', value: (i) => `${i.deadline} (${relativeTime(i.deadline)})` },
];

export async function approvalsList(ctx: CommandContext): Promise<void> {
  const items = await listPendingApprovals(ctx.client);
  if (ctx.json) return printJson(items);
  say(ctx, table(items, QUEUE_COLUMNS));
}

/** A vote straight through Temporal (the operators' `--direct` path). */
export async function voteCommand(
  ctx: CommandContext,
  missionId: string,
  actionId: string,
  decision: 'approve' | 'reject',
  approver: string,
  reason?: string,
  roles: string[] = [],
): Promise<void> {
  const signer = operatorSigner(ctx);
  // Show what is being voted on, and bind the vote to exactly that (params hash, policy version, step).
  const pending = await pendingAction(ctx.client, missionId, actionId).catch(() => undefined);
  if (pending && !ctx.json) say(ctx, `${decision} ${actionId}: ${pending.operation} ${JSON.stringify(pending.params)}`);
  const vote = signer.signVote(missionId, {
    actionId,
    decision,
    approver,
    roles,
    step: pending?.step ?? 0,
    ...(pending ? { paramsHash: pending.paramsHash, policyVersion: pending.policyVersion } : {}),
    ...(reason ? { reason } : {}),
  });
  const result = await castVote(ctx.client, missionId, vote);
  if (ctx.json) return printJson({ missionId, ...result });
  const verb = decision === 'approve' ? 'approved' : 'rejected';
  const tally =
    result.outcome === 'pending' ? `; ${result.approvals} of ${result.quorum} approvals, waiting for more` : '';
  say(
    ctx,
    `${verb} ${missionId} ${actionId} as ${result.approver} [break-glass key ${signer.keyId}] (recorded ${result.recordedAt}${tally})`,
  );
}

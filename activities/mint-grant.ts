import { ApplicationFailure } from '@temporalio/activity';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Connector } from '../connectors/connector';
import type { TrustedSigner, VoteInput } from '../contract/mission';
import { verifyAttestation, voteMessage } from '../core/attestation';
import type { SignedGrant } from '../core/grant';
import { actionParamsHash, mintGrant as signGrant } from '../core/grant';
import { sameIdentity } from '../core/votes';
import { dryRun, writeSpec } from './decision-pipeline';
import type { GrantKeys } from './deps';
import { Action, parse } from './support';

export const MintGrantInput = z.object({
  missionId: z.string(),
  action: Action,
  policyVersion: z.string(),
  approvers: z.array(z.string()),
  /** The signed votes that counted for `approvers` (empty when policy allowed without approval). */
  votes: z.array(z.custom<VoteInput>((v) => typeof v === 'object' && v !== null, 'a vote')).default([]),
  /** The connector that will run the action: its dry run comes first (absent in early histories). */
  integration: z.string().optional(),
});

/**
 * Signs a short-lived grant bound to exactly this action, its params and the policy version — after
 * checking again, in the worker, that every approver the grant names cast a vote for exactly this
 * action that verifies against a key the deployment trusts now (defence in depth behind the
 * workflow's own check; fail closed). The votes' validity windows were checked when they were cast.
 * Then the connector's dry run: an action the system of record would refuse now (the order was
 * refunded meanwhile, say) gets no grant; that refusal is typed `ActionRefused`, not a failure.
 */
export function mintGrantActivity(
  grants: GrantKeys,
  trustedSigners: readonly TrustedSigner[],
  connectors: Record<string, Connector> = {},
) {
  return async function mintGrant(raw: z.input<typeof MintGrantInput>): Promise<SignedGrant> {
    const input = parse(MintGrantInput, raw, 'mintGrant');
    const paramsHash = actionParamsHash(input.action.operation, input.action.params);
    for (const approver of input.approvers) {
      const problem = voteProblem(approver, input, paramsHash, trustedSigners);
      if (problem) {
        throw ApplicationFailure.create({
          type: 'GrantRefused',
          nonRetryable: true,
          message: `no grant for ${input.action.actionId}: ${problem}`,
        });
      }
    }
    const now = new Date();
    const refused = input.integration && refusalNow(connectors, input.integration, input, now);
    if (refused) {
      throw ApplicationFailure.create({
        type: 'ActionRefused',
        nonRetryable: true,
        message: `no grant for ${input.action.actionId}: ${refused}`,
      });
    }
    return signGrant(
      {
        v: 1,
        grantId: `g-${randomUUID()}`,
        missionId: input.missionId,
        actionId: input.action.actionId,
        operation: input.action.operation,
        paramsHash,
        policyVersion: input.policyVersion,
        approvers: input.approvers,
        issuedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + grants.lifetimeMs).toISOString(),
      },
      grants.signer,
      now,
    );
  };
}

/** Why the connector would refuse the action now (its dry run), or undefined. */
function refusalNow(
  connectors: Record<string, Connector>,
  integration: string,
  input: z.output<typeof MintGrantInput>,
  now: Date,
): string | undefined {
  const found = writeSpec(connectors, integration, input.action.operation);
  if (typeof found === 'string') return found;
  const parsed = found.spec.params.safeParse(input.action.params);
  if (!parsed.success) return `params do not satisfy ${input.action.operation}`;
  const ctx = { missionId: input.missionId, actionId: input.action.actionId, now };
  const refused = dryRun(found.spec, parsed.data, ctx);
  return refused && `the system of record refuses ${input.action.operation}: ${refused}`;
}

/** Why `approver` has no verified, bound approval among the votes, or undefined when they have one. */
function voteProblem(
  approver: string,
  input: z.output<typeof MintGrantInput>,
  paramsHash: string,
  signers: readonly TrustedSigner[],
): string | undefined {
  const votes = input.votes.filter((v) => typeof v.approver === 'string' && sameIdentity(v.approver, approver));
  if (votes.length === 0) return `${approver} is named as an approver but cast no signed vote`;
  for (const vote of votes) {
    const bound =
      vote.decision === 'approve' &&
      vote.actionId === input.action.actionId &&
      vote.paramsHash === paramsHash &&
      vote.policyVersion === input.policyVersion;
    const checked = verifyAttestation(voteMessage(input.missionId, vote), vote.attestation, signers, 'approval');
    if (bound && checked.ok) return undefined;
    if (!checked.ok)
      return `the vote of ${approver} does not verify against the keys this worker trusts (${checked.message})`;
  }
  return `the vote of ${approver} is not an approval of exactly this action, params and policy version`;
}

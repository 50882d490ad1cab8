import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SignedGrant } from '../core/grant';
import { actionParamsHash, mintGrant as signGrant } from '../core/grant';
import type { GrantKeys } from './deps';
import { Action, parse } from './support';

export const MintGrantInput = z.object({
  missionId: z.string(),
  action: Action,
  policyVersion: z.string(),
  approvers: z.array(z.string()),
});

/** Signs a short-lived grant bound to exactly this action, its params and the policy version. */
export function mintGrantActivity(grants: GrantKeys) {
  return async function mintGrant(raw: z.input<typeof MintGrantInput>): Promise<SignedGrant> {
    const input = parse(MintGrantInput, raw, 'mintGrant');
    const now = new Date();
    return signGrant(
      {
        v: 1,
        grantId: `g-${randomUUID()}`,
        missionId: input.missionId,
        actionId: input.action.actionId,
        operation: input.action.operation,
        paramsHash: actionParamsHash(input.action.operation, input.action.params),
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

import type { Catalog } from '../catalog/catalog';
import type { MissionStateView } from '../contract/mission';
import { sameIdentity } from '../core/votes';
import type { Principal } from './auth';
import { AUDITOR_ROLE } from './auth';
import { DeskError } from './refusals';

/**
 * Who may read a mission (its params, Explain rail and input): least privilege. A person may read
 * a mission when they hold a role that may decide its actions (any step of any ladder of its type,
 * or a role its pending actions name), when they hold the read-only `auditor` role, or when they
 * started it themselves. Everyone else gets 403 `no_read_access`. Deciding is checked separately,
 * with the workflow's own rules (refusals.ts); an auditor reads everything and decides nothing
 * (unless they also hold an approver role).
 */
export class MissionAccess {
  constructor(private readonly catalog: Catalog) {}

  /** The roles that may decide some action of this mission type (ladder roles and tier names). */
  deciderRoles(missionType: string): Set<string> {
    const roles = new Set<string>();
    try {
      const { ladders } = this.catalog.get(missionType).definition.approval;
      for (const [tier, steps] of Object.entries(ladders)) {
        roles.add(tier);
        for (const step of steps) for (const role of step.roles) roles.add(role);
      }
    } catch {
      // A type the catalog no longer has: only pending actions' roles, auditors and the initiator read it.
    }
    return roles;
  }

  mayRead(principal: Principal, state: Pick<MissionStateView, 'missionType' | 'initiator' | 'pending'>): boolean {
    if (principal.roles.includes(AUDITOR_ROLE)) return true;
    if (sameIdentity(principal.subject, state.initiator)) return true;
    const deciders = this.deciderRoles(state.missionType);
    for (const p of state.pending) for (const role of p.roles) deciders.add(role);
    return principal.roles.some((r) => deciders.has(r));
  }

  /**
   * Whether the principal may read missions at all (the queue with `all`): the auditor role or a
   * role that may decide some mission type. Others learn nothing by asking, not even an empty list.
   */
  requireReadAny(principal: Principal): void {
    if (principal.roles.includes(AUDITOR_ROLE)) return;
    for (const type of this.catalog.types()) {
      const deciders = this.deciderRoles(type);
      if (principal.roles.some((r) => deciders.has(r))) return;
    }
    throw new DeskError(
      'no_read_access',
      `reading every pending action needs a role that may decide some mission type or the ${AUDITOR_ROLE} role; you hold ${principal.roles.join(', ') || 'none'}`,
    );
  }

  requireRead(
    principal: Principal,
    state: Pick<MissionStateView, 'missionId' | 'missionType' | 'initiator' | 'pending'>,
  ): void {
    if (this.mayRead(principal, state)) return;
    throw new DeskError(
      'no_read_access',
      `reading ${state.missionId} needs a role that may decide ${state.missionType} missions or the ${AUDITOR_ROLE} role; you hold ${principal.roles.join(', ') || 'none'}`,
    );
  }
}

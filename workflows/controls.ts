import { setHandler, workflowInfo } from '@temporalio/workflow';
import { haltSignal, pauseSignal, resumeSignal } from '../contract/messages';
import type { AppliedControl, ControlInput, ControlKind, TrustedSigner } from '../contract/mission';
import { controlMessage, verifyAttestation } from '../core/attestation';
import type { Rail } from './rail';

/** Who may send controls to this mission: the pinned keys and the roles the definition allows. */
export interface ControlTrust {
  signers: readonly TrustedSigner[];
  roles: readonly string[];
}

/**
 * The kill switch. `halt` is final: the mission executes nothing further and closes `halted`.
 * `pause` stops the mission before its next step and stops the approval clock (see ApprovalGate);
 * `resume` lets it go on. Every control must be signed by a key trusted for controls, for someone
 * holding a control role of the definition; anything else is refused and observed — an unsigned
 * halt too (it could only stop things, but identity typed into a message is never trusted, and the
 * cluster's own terminate remains for whoever administers Temporal). Controls that arrive before
 * the mission has pinned its keys wait for them.
 */
export class Controls {
  halted?: AppliedControl;
  paused?: AppliedControl;
  private trust?: ControlTrust;
  private readonly waiting: { kind: ControlKind; input: unknown }[] = [];

  constructor(
    private readonly rail: Rail,
    /** Controls applied so far (carried across continue-as-new, listed in the result). */
    readonly applied: AppliedControl[] = [],
  ) {
    for (const c of applied) this.apply(c);
  }

  install(): void {
    setHandler(haltSignal, (input) => this.receive('halt', input));
    setHandler(pauseSignal, (input) => this.receive('pause', input));
    setHandler(resumeSignal, (input) => this.receive('resume', input));
  }

  /** Pins the keys and roles controls are checked against, then handles what arrived before. */
  trustWith(trust: ControlTrust): void {
    this.trust = trust;
    for (const { kind, input } of this.waiting.splice(0)) this.receive(kind, input);
  }

  private receive(kind: ControlKind, input: unknown): void {
    if (!this.trust) {
      this.waiting.push({ kind, input });
      return;
    }
    const refused = (why: string) =>
      this.rail.observe('control_refused', `refused a ${kind}: ${why}`, { kind, received: describe(input) });
    const c = input as Partial<ControlInput> | null;
    if (
      !c ||
      typeof c !== 'object' ||
      typeof c.by !== 'string' ||
      !c.by.trim() ||
      typeof c.reason !== 'string' ||
      !c.reason.trim()
    ) {
      return refused('a control needs who (`by`) and why (`reason`)');
    }
    if (c.roles !== undefined && (!Array.isArray(c.roles) || !c.roles.every((r) => typeof r === 'string'))) {
      return refused('roles must be a list of role names');
    }
    const missionId = workflowInfo().workflowId;
    const checked = verifyAttestation(
      controlMessage(missionId, kind, c as ControlInput),
      c.attestation,
      this.trust.signers,
      'control',
      new Date(),
    );
    if (!checked.ok) return refused(`${checked.code}: ${checked.message}`);
    if (typeof c.controlId !== 'string' || this.applied.some((a) => a.controlId === c.controlId)) {
      return refused('a signed control needs a control id it has not used before');
    }
    const roles = c.roles ?? [];
    if (!roles.some((r) => this.trust!.roles.includes(r))) {
      return refused(`${c.by} holds none of the control roles (${this.trust.roles.join(', ')})`);
    }
    if (kind === 'halt' && this.halted) return;
    if (kind === 'pause' && (this.paused || this.halted)) return;
    if (kind === 'resume' && (!this.paused || this.halted)) return;
    const control: AppliedControl = {
      kind,
      by: c.by.trim(),
      reason: c.reason.trim(),
      keyId: checked.signer.keyId,
      breakGlass: checked.signer.breakGlass,
      controlId: c.controlId,
      at: new Date().toISOString(),
    };
    this.applied.push(control);
    this.apply(control);
    const glass = control.breakGlass ? ' [break-glass]' : '';
    const observed = { halt: 'halted', pause: 'paused', resume: 'resumed' } as const;
    this.rail.observe(observed[kind], `${observed[kind]} by ${control.by}${glass}: ${control.reason}`, { ...control });
  }

  private apply(control: AppliedControl): void {
    if (control.kind === 'halt') this.halted = control;
    else if (control.kind === 'pause') this.paused = control;
    else this.paused = undefined;
  }
}

/** A bounded, printable summary of whatever arrived (it may not even be an object). */
export function describe(input: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(input) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

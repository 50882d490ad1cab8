import { setHandler } from '@temporalio/workflow';
import { haltSignal, pauseSignal, resumeSignal } from '../contract/messages';
import type { ControlInput } from '../contract/mission';
import type { Rail } from './rail';

/**
 * The kill switch. `halt` is final: the mission executes nothing further and closes `halted`.
 * `pause` stops the mission before its next step and stops the approval clock (see ApprovalGate);
 * `resume` lets it go on. Controls with no `by` or `reason` are refused on the rail.
 */
export class Controls {
  halted?: ControlInput;
  paused?: ControlInput;

  constructor(private readonly rail: Rail) {}

  install(onChange: () => void): void {
    const valid = (input: ControlInput, what: string): boolean => {
      if (
        !input ||
        typeof input.by !== 'string' ||
        !input.by.trim() ||
        typeof input.reason !== 'string' ||
        !input.reason.trim()
      ) {
        this.rail.observe('error', `refused a ${what} without who and why`, {});
        return false;
      }
      return true;
    };
    setHandler(haltSignal, (input) => {
      if (!valid(input, 'halt') || this.halted) return;
      this.halted = { by: input.by.trim(), reason: input.reason.trim() };
      this.rail.observe('halted', `halted by ${this.halted.by}: ${this.halted.reason}`, { ...this.halted });
      onChange();
    });
    setHandler(pauseSignal, (input) => {
      if (!valid(input, 'pause') || this.paused || this.halted) return;
      this.paused = { by: input.by.trim(), reason: input.reason.trim() };
      this.rail.observe('paused', `paused by ${this.paused.by}: ${this.paused.reason}`, { ...this.paused });
      onChange();
    });
    setHandler(resumeSignal, (input) => {
      if (!valid(input, 'resume') || !this.paused || this.halted) return;
      this.paused = undefined;
      this.rail.observe('resumed', `resumed by ${input.by.trim()}: ${input.reason.trim()}`, { by: input.by.trim() });
      onChange();
    });
  }
}

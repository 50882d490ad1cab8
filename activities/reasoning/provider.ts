import type { MissionDefinition } from '../../core/mission';
import type { Playbook } from '../../core/playbook';

/**
 * The contract every reasoning provider implements: one call produces one reasoning step. The step
 * comes back unvalidated (`unknown`): the reasoning activity parses it, so no provider's output is
 * trusted on its own word.
 */
export interface ReasoningRequest {
  missionId: string;
  definition: MissionDefinition;
  playbook?: Playbook;
  /** 0-based index of this reasoning step in the mission. */
  stepIndex: number;
  /** Mission input, named read results and the last action's outcome. Untrusted data. */
  context: Record<string, unknown>;
  /** The Explain rail so far, as short summaries. */
  history: { kind: string; summary: string }[];
}

export interface ReasoningUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ReasoningReply {
  step: unknown;
  usage: ReasoningUsage;
}

export interface ReasoningProvider {
  /** `provider:model`, e.g. `offline:playbook`. */
  readonly id: string;
  step(request: ReasoningRequest): Promise<ReasoningReply>;
}

/** A provider failure that retrying will not fix (bad key, bad request, unusable output). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

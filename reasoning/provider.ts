import type { MissionDefinition } from '../core/mission';
import type { Playbook } from '../core/playbook';

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
  /** The Explain rail so far, as short summaries (and what the model itself said, under `said`). */
  history: { kind: string; summary: string; said?: string }[];
  /** Set when the previous reply was not a valid step: what was wrong with it (our words, not data). */
  feedback?: string;
}

export interface ReasoningUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ReasoningReply {
  step: unknown;
  usage: ReasoningUsage;
  /**
   * Set when the reply could not even be read as a step (not JSON, cut off, no tool call): what was
   * wrong, in our words. The router re-asks with it as feedback, as for a schema-invalid step.
   */
  invalid?: string;
}

export interface ReasoningProvider {
  /** `provider:model`, e.g. `offline:playbook`. */
  readonly id: string;
  step(request: ReasoningRequest): Promise<ReasoningReply>;
}

/** Extra facts about a provider failure, for the activity's retry decision. */
export interface ProviderErrorOptions {
  /** How long the provider asked us to wait before trying again (Retry-After / retry-after-ms). */
  retryAfterMs?: number;
  /** HTTP status of the failed call, when there was one. */
  status?: number;
  cause?: unknown;
}

/**
 * A provider failure. `retryable: false` means retrying will not fix it (bad key, bad request, unusable
 * output); `retryable: true` means Temporal's activity retry should try again, after `retryAfterMs` if set.
 */
export class ProviderError extends Error {
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(
    message: string,
    readonly retryable: boolean,
    options: ProviderErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.status !== undefined) this.status = options.status;
  }
}

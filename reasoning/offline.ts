import { PlaybookError, playStep } from '../core/playbook';
import type { ReasoningProvider, ReasoningReply, ReasoningRequest } from './provider';
import { ProviderError } from './provider';

/**
 * The offline provider: follows the mission's playbook, deterministically, with no network and no
 * key. It is the default so that the whole stack works air-gapped.
 */
export class OfflinePlaybookProvider implements ReasoningProvider {
  readonly id = 'offline:playbook';

  async step(request: ReasoningRequest): Promise<ReasoningReply> {
    if (!request.playbook) {
      throw new ProviderError(
        `mission type ${request.definition.type} has no playbook.json for the offline provider`,
        false,
      );
    }
    try {
      const step = playStep(request.playbook, request.stepIndex, request.context);
      return { step, usage: { inputTokens: 0, outputTokens: 0 } };
    } catch (err) {
      if (err instanceof PlaybookError) throw new ProviderError(err.message, false);
      throw err;
    }
  }
}

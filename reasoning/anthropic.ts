import Anthropic from '@anthropic-ai/sdk';
import { classifyProviderError, readModelJson, truncate } from './errors';
import { STEP_TOOL_NAME, buildStepPrompt, stepSchemaFor } from './prompt';
import type { ReasoningProvider, ReasoningReply, ReasoningRequest } from './provider';
import { ProviderError } from './provider';

export interface AnthropicProviderOptions {
  /** Without a key the provider is listed but every step fails, non-retryably, naming ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Defaults to the public API. */
  baseURL?: string;
  model: string;
  timeoutMs: number;
  /** Output budget for one step (the Messages API requires one). */
  maxTokens?: number;
}

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
const KEY_VARIABLE = 'ANTHROPIC_API_KEY';
const DEFAULT_MAX_TOKENS = 2048;

/**
 * Reasoning through the Anthropic Messages API. The step is the input of a single tool whose
 * `input_schema` is the step schema, and `tool_choice` forces the model to call it. The SDK does not
 * retry (`maxRetries: 0`): Temporal's activity retry does.
 */
export class AnthropicProvider implements ReasoningProvider {
  readonly id: string;
  // An ES private field: the client (which holds the key) never shows up in JSON or logs of the provider.
  readonly #client: Anthropic | undefined;
  readonly #model: string;
  readonly #maxTokens: number;

  constructor(options: AnthropicProviderOptions) {
    this.id = `anthropic:${options.model}`;
    this.#model = options.model;
    this.#maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    // The key is passed explicitly so the SDK never goes looking for profiles or environment credentials.
    this.#client = options.apiKey
      ? new Anthropic({
          apiKey: options.apiKey,
          baseURL: options.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
          timeout: options.timeoutMs,
          maxRetries: 0,
        })
      : undefined;
  }

  async step(request: ReasoningRequest): Promise<ReasoningReply> {
    if (!this.#client) throw new ProviderError(`${this.id} needs ${KEY_VARIABLE}`, false);
    const prompt = buildStepPrompt(request);
    let message: Anthropic.Message;
    try {
      message = await this.#client.messages.create({
        model: this.#model,
        max_tokens: this.#maxTokens,
        system: prompt.system,
        messages: [{ role: 'user', content: prompt.user }],
        tools: [
          {
            name: STEP_TOOL_NAME,
            description: 'Record the next reasoning step of the mission.',
            input_schema: stepSchemaFor('anthropic-tool') as Anthropic.Tool.InputSchema,
          },
        ],
        tool_choice: { type: 'tool', name: STEP_TOOL_NAME, disable_parallel_tool_use: true },
      });
    } catch (err) {
      throw classifyProviderError(err, {
        provider: this.id,
        keyVariable: KEY_VARIABLE,
        secrets: [this.#client.apiKey ?? undefined],
      });
    }

    const usage = { inputTokens: message.usage?.input_tokens ?? 0, outputTokens: message.usage?.output_tokens ?? 0 };
    if (message.stop_reason === 'max_tokens') {
      const invalid = `${this.id} ran out of output tokens before finishing the step: reply with a shorter step`;
      return { step: undefined, usage, invalid };
    }
    const toolUse = message.content.find(
      (block): block is Anthropic.ToolUseBlock => block.type === 'tool_use' && block.name === STEP_TOOL_NAME,
    );
    if (!toolUse) {
      const text = message.content
        .map((block) => (block.type === 'text' ? block.text : ''))
        .join('')
        .trim();
      const invalid = `${this.id} did not call the ${STEP_TOOL_NAME} tool; it returned: ${truncate(text || '(no content)', 300)}`;
      return { step: undefined, usage, invalid };
    }
    // The API sends the input as a JSON object; some gateways relay it as a JSON string.
    if (typeof toolUse.input !== 'string') return { step: toolUse.input, usage };
    const read = readModelJson(this.id, toolUse.input, 'tool input');
    return 'invalid' in read ? { step: undefined, usage, invalid: read.invalid } : { step: read.step, usage };
  }
}

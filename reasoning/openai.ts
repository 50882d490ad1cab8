import OpenAI from 'openai';
import { classifyProviderError, readModelJson } from './errors';
import { STEP_TOOL_NAME, buildStepPrompt, decodeStringParams, stepSchemaFor } from './prompt';
import type { ReasoningProvider, ReasoningReply, ReasoningRequest } from './provider';
import { ProviderError } from './provider';

export interface OpenAIProviderOptions {
  /** Without a key the provider is listed but every step fails, non-retryably, naming OPENAI_API_KEY. */
  apiKey?: string;
  /** Defaults to the public API. Any server speaking the Chat Completions wire format works. */
  baseURL?: string;
  model: string;
  timeoutMs: number;
}

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const KEY_VARIABLE = 'OPENAI_API_KEY';

/**
 * Reasoning through OpenAI Chat Completions with strict structured output (`response_format:
 * json_schema`). The SDK does not retry (`maxRetries: 0`): Temporal's activity retry does.
 */
export class OpenAIProvider implements ReasoningProvider {
  readonly id: string;
  // An ES private field: the client (which holds the key) never shows up in JSON or logs of the provider.
  readonly #client: OpenAI | undefined;
  readonly #model: string;

  constructor(options: OpenAIProviderOptions) {
    this.id = `openai:${options.model}`;
    this.#model = options.model;
    this.#client = options.apiKey
      ? new OpenAI({
          apiKey: options.apiKey,
          // Explicit, so the SDK never falls back to process.env behind the configuration's back.
          baseURL: options.baseURL ?? OPENAI_DEFAULT_BASE_URL,
          organization: null,
          project: null,
          timeout: options.timeoutMs,
          maxRetries: 0,
        })
      : undefined;
  }

  async step(request: ReasoningRequest): Promise<ReasoningReply> {
    if (!this.#client) throw new ProviderError(`${this.id} needs ${KEY_VARIABLE}`, false);
    const prompt = buildStepPrompt(request);
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.#client.chat.completions.create({
        model: this.#model,
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        response_format: {
          type: 'json_schema',
          json_schema: { name: STEP_TOOL_NAME, schema: stepSchemaFor('openai-strict'), strict: true },
        },
      });
    } catch (err) {
      throw classifyProviderError(err, {
        provider: this.id,
        keyVariable: KEY_VARIABLE,
        secrets: [this.#client.apiKey],
      });
    }

    const choice = completion.choices[0];
    if (!choice) throw new ProviderError(`${this.id} returned no choices`, false);
    if (choice.message.refusal) {
      throw new ProviderError(`${this.id} refused the step: ${choice.message.refusal.slice(0, 300)}`, false);
    }
    const usage = {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
    if (choice.finish_reason === 'length') {
      const invalid = `${this.id} ran out of output tokens before finishing the step: reply with a shorter step`;
      return { step: undefined, usage, invalid };
    }
    const read = readModelJson(this.id, choice.message.content);
    if ('invalid' in read) return { step: undefined, usage, invalid: read.invalid };
    const decoded = decodeStringParams(read.step);
    if ('error' in decoded)
      return { step: undefined, usage, invalid: `${this.id} returned an unusable step: ${decoded.error}` };
    return { step: decoded.step, usage };
  }
}

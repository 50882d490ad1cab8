import { Ollama } from 'ollama';
import type { ChatResponse } from 'ollama';
import { classifyProviderError, readModelJson } from './errors';
import { buildStepPrompt, stepSchemaFor } from './prompt';
import type { ReasoningProvider, ReasoningReply, ReasoningRequest } from './provider';

export interface OllamaProviderOptions {
  /** Only for hosted or proxied Ollama that wants a bearer token; a local server needs none. */
  apiKey?: string;
  host: string;
  model: string;
  timeoutMs: number;
}

/**
 * Reasoning through an Ollama server's chat API with `format` set to the step's JSON Schema
 * (structured output). ollama-js has neither timeouts nor retries, and its errors carry no headers,
 * so each call goes through a fetch wrapper that applies the timeout and keeps the response headers
 * (a proxy in front of Ollama may send Retry-After).
 */
export class OllamaProvider implements ReasoningProvider {
  readonly id: string;
  readonly #options: Readonly<OllamaProviderOptions>;

  constructor(options: OllamaProviderOptions) {
    this.id = `ollama:${options.model}`;
    this.#options = { ...options };
  }

  async step(request: ReasoningRequest): Promise<ReasoningReply> {
    const { apiKey, host, model, timeoutMs } = this.#options;
    let headers: Headers | undefined;
    const timedFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      headers = response.headers;
      return response;
    };
    const client = new Ollama({
      host,
      fetch: timedFetch,
      ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
    });
    const prompt = buildStepPrompt(request);
    let response: ChatResponse;
    try {
      response = await client.chat({
        model,
        stream: false,
        format: stepSchemaFor('ollama-format'),
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        // Deterministic decoding: the step should follow from the data, not from sampling luck.
        options: { temperature: 0 },
      });
    } catch (err) {
      throw classifyProviderError(err, {
        provider: this.id,
        keyVariable: 'OLLAMA_API_KEY',
        headers,
        secrets: [apiKey],
      });
    }
    const usage = { inputTokens: response.prompt_eval_count ?? 0, outputTokens: response.eval_count ?? 0 };
    const read = readModelJson(this.id, response.message?.content);
    return 'invalid' in read ? { step: undefined, usage, invalid: read.invalid } : { step: read.step, usage };
  }
}

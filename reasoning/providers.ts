import type { Price, ProviderConfig, ProviderName } from '../config';
import { AnthropicProvider } from './anthropic';
import { OfflinePlaybookProvider } from './offline';
import { OllamaProvider } from './ollama';
import { OpenAIProvider } from './openai';
import { ProviderError } from './provider';
import { ProviderRegistry } from './registry';

/**
 * The reasoning providers a worker offers, built from the provider configuration. API keys go from
 * the configuration (as secrets) straight into the SDK clients: no error message and no object this
 * module returns contains one.
 */

const OFFLINE_ID = 'offline:playbook';

/**
 * `offline:playbook` always, plus `openai:<model>`, `anthropic:<model>` and `ollama:<model>` with
 * their configured models. A provider whose key is missing is still listed; {@link requireProvider}
 * tells the operator what to set.
 */
export function buildProviderRegistry(config: ProviderConfig): ProviderRegistry {
  const timeoutMs = config.timeoutMs;
  return new ProviderRegistry([
    new OfflinePlaybookProvider(),
    new OpenAIProvider({
      apiKey: config.openai.apiKey?.reveal(),
      baseURL: config.openai.baseURL,
      model: config.openai.model,
      timeoutMs,
    }),
    new AnthropicProvider({
      apiKey: config.anthropic.apiKey?.reveal(),
      baseURL: config.anthropic.baseURL,
      model: config.anthropic.model,
      timeoutMs,
    }),
    new OllamaProvider({
      apiKey: config.ollama.apiKey?.reveal(),
      host: config.ollama.host,
      model: config.ollama.model,
      timeoutMs,
    }),
  ]);
}

/**
 * Checks that a provider exists and has what it needs. Throws e.g. `openai:gpt-4o-mini needs
 * OPENAI_API_KEY`, or for an unknown id the list of available ones. Returns whether it is inside the boundary.
 */
export function requireProvider(
  id: string,
  config: ProviderConfig,
): { id: string; provider: ProviderName; inside: boolean } {
  buildProviderRegistry(config).resolve(id); // throws "unknown reasoning provider …; available: …"
  const provider = id.slice(0, id.indexOf(':')) as ProviderName;
  if (provider === 'openai' && !config.openai.hasKey) throw new ProviderError(`${id} needs OPENAI_API_KEY`, false);
  if (provider === 'anthropic' && !config.anthropic.hasKey) {
    throw new ProviderError(`${id} needs ANTHROPIC_API_KEY`, false);
  }
  return { id, provider, inside: id === OFFLINE_ID || config.boundaryInside.has(provider) };
}

/** USD per million tokens for the default models. */
export const DEFAULT_PRICES: Record<string, Price> = {
  'offline:playbook': { inputPerMTokUsd: 0, outputPerMTokUsd: 0 },
  'openai:gpt-4o-mini': { inputPerMTokUsd: 0.15, outputPerMTokUsd: 0.6 },
  'anthropic:claude-haiku-4-5': { inputPerMTokUsd: 1, outputPerMTokUsd: 5 },
};

/** The price table: the defaults plus what the configuration adds or overrides. */
export function priceTable(config: ProviderConfig): Record<string, Price> {
  return { ...DEFAULT_PRICES, ...config.prices };
}

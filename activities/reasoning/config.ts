import { z } from 'zod';
import { AnthropicProvider } from './anthropic';
import { OfflinePlaybookProvider } from './offline';
import { OllamaProvider } from './ollama';
import { OpenAIProvider } from './openai';
import { ProviderError } from './provider';
import { ProviderRegistry } from './registry';

/**
 * Provider settings from the environment, validated with zod. API keys go from the environment
 * straight into the SDK clients: no error message and no object this module returns contains one.
 */

export const PROVIDER_NAMES = ['offline', 'openai', 'anthropic', 'ollama'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const OFFLINE_ID = 'offline:playbook';
const DEFAULT_INSIDE = 'ollama,offline';

// An empty variable (`OPENAI_API_KEY=` in a .env file) means "not set".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());
const withDefault = (value: string) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().min(1).default(value));

export const ProviderEnv = z.object({
  OPENAI_API_KEY: optional(z.string()),
  OPENAI_BASE_URL: optional(z.url()),
  MANDATE_OPENAI_MODEL: withDefault('gpt-4o-mini'),
  ANTHROPIC_API_KEY: optional(z.string()),
  ANTHROPIC_BASE_URL: optional(z.url()),
  MANDATE_ANTHROPIC_MODEL: withDefault('claude-haiku-4-5'),
  OLLAMA_HOST: withDefault('http://127.0.0.1:11434'),
  OLLAMA_API_KEY: optional(z.string()),
  MANDATE_OLLAMA_MODEL: withDefault('llama3.2'),
  /** Comma-separated provider names inside the deployment boundary (may see confidential data unredacted). */
  MANDATE_BOUNDARY_INSIDE: withDefault(DEFAULT_INSIDE).pipe(
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(PROVIDER_NAMES, { error: `expected names from ${PROVIDER_NAMES.join(', ')}` }))),
  ),
  /** Per-request timeout of one model call, in milliseconds. */
  MANDATE_PROVIDER_TIMEOUT_MS: withDefault('60000').pipe(
    z
      .string()
      .regex(/^\d+$/, 'a whole number of milliseconds')
      .transform(Number)
      .pipe(z.number().int().min(1000).max(600_000)),
  ),
});
type ParsedEnv = z.infer<typeof ProviderEnv>;

/** Key-free view of the settings: what is configured, never the secrets themselves. */
export interface ProviderSettings {
  openai: { id: string; model: string; baseURL?: string; hasKey: boolean };
  anthropic: { id: string; model: string; baseURL?: string; hasKey: boolean };
  ollama: { id: string; model: string; host: string };
  /** Provider names inside the deployment boundary; `offline` always is (it never leaves the process). */
  boundaryInside: ReadonlySet<ProviderName>;
  timeoutMs: number;
}

type Env = Record<string, string | undefined>;

function parseEnv(env: Env): ParsedEnv {
  const result = ProviderEnv.safeParse(env);
  if (!result.success) {
    // Path and problem only: zod does not echo input values unless asked, and we never ask.
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ProviderError(`invalid provider settings: ${problems.join('; ')}`, false);
  }
  return result.data;
}

const describe = (e: ParsedEnv): ProviderSettings => ({
  openai: {
    id: `openai:${e.MANDATE_OPENAI_MODEL}`,
    model: e.MANDATE_OPENAI_MODEL,
    baseURL: e.OPENAI_BASE_URL,
    hasKey: e.OPENAI_API_KEY !== undefined,
  },
  anthropic: {
    id: `anthropic:${e.MANDATE_ANTHROPIC_MODEL}`,
    model: e.MANDATE_ANTHROPIC_MODEL,
    baseURL: e.ANTHROPIC_BASE_URL,
    hasKey: e.ANTHROPIC_API_KEY !== undefined,
  },
  ollama: { id: `ollama:${e.MANDATE_OLLAMA_MODEL}`, model: e.MANDATE_OLLAMA_MODEL, host: e.OLLAMA_HOST },
  boundaryInside: new Set<ProviderName>([...e.MANDATE_BOUNDARY_INSIDE, 'offline']),
  timeoutMs: e.MANDATE_PROVIDER_TIMEOUT_MS,
});

/** Reads and validates the provider settings; a wrong setting throws a one-line explanation. */
export function loadProviderSettings(env: Env = process.env): ProviderSettings {
  return describe(parseEnv(env));
}

/** Provider names inside the deployment boundary, for routing. */
export function providerBoundary(env: Env = process.env): ReadonlySet<ProviderName> {
  return loadProviderSettings(env).boundaryInside;
}

/**
 * The registry of reasoning providers: `offline:playbook` always, plus `openai:<model>`,
 * `anthropic:<model>` and `ollama:<model>` with their configured models. A provider whose key is
 * missing is still listed; {@link requireProviderSettings} tells the operator what to set.
 */
export function buildProviderRegistry(env: Env = process.env): ProviderRegistry {
  const e = parseEnv(env);
  const timeoutMs = e.MANDATE_PROVIDER_TIMEOUT_MS;
  return new ProviderRegistry([
    new OfflinePlaybookProvider(),
    new OpenAIProvider({
      apiKey: e.OPENAI_API_KEY,
      baseURL: e.OPENAI_BASE_URL,
      model: e.MANDATE_OPENAI_MODEL,
      timeoutMs,
    }),
    new AnthropicProvider({
      apiKey: e.ANTHROPIC_API_KEY,
      baseURL: e.ANTHROPIC_BASE_URL,
      model: e.MANDATE_ANTHROPIC_MODEL,
      timeoutMs,
    }),
    new OllamaProvider({ apiKey: e.OLLAMA_API_KEY, host: e.OLLAMA_HOST, model: e.MANDATE_OLLAMA_MODEL, timeoutMs }),
  ]);
}

/**
 * Checks, before a mission starts with `--provider <id>`, that the provider exists and has what it
 * needs. Throws e.g. `openai:gpt-4o-mini needs OPENAI_API_KEY`, or for an unknown id the list of
 * available ones. Returns the provider's key-free description and whether it is inside the boundary.
 */
export function requireProviderSettings(
  id: string,
  env: Env = process.env,
): { id: string; provider: ProviderName; inside: boolean } {
  const settings = loadProviderSettings(env);
  buildProviderRegistry(env).resolve(id); // throws "unknown reasoning provider …; available: …"
  const provider = id.slice(0, id.indexOf(':')) as ProviderName;
  if (provider === 'openai' && !settings.openai.hasKey) throw new ProviderError(`${id} needs OPENAI_API_KEY`, false);
  if (provider === 'anthropic' && !settings.anthropic.hasKey) {
    throw new ProviderError(`${id} needs ANTHROPIC_API_KEY`, false);
  }
  return { id, provider, inside: id === OFFLINE_ID || settings.boundaryInside.has(provider) };
}

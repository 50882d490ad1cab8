import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { Env } from './schema';
import { ConfigError } from './schema';
import { Secret } from './secret';

/** Reasoning provider settings: models, endpoints, keys (as {@link Secret}s), the boundary, prices. */

export const PROVIDER_NAMES = ['offline', 'openai', 'anthropic', 'ollama'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const DEFAULT_INSIDE = 'ollama,offline';

// An empty variable (`OPENAI_API_KEY=` in a .env file) means "not set".
const blankIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankIsUnset, schema.optional());
const withDefault = (value: string) => z.preprocess(blankIsUnset, z.string().min(1).default(value));

/** USD per million tokens. */
export interface Price {
  inputPerMTokUsd: number;
  outputPerMTokUsd: number;
}

const PriceTable = z.record(
  z.string().min(1),
  z.object({ inputPerMTokUsd: z.number().min(0), outputPerMTokUsd: z.number().min(0) }).strict(),
);

const ProviderEnv = z.object({
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
  /** Regions whose national phone formats the personal-data detector recognises (ISO 3166 alpha-2). */
  MANDATE_PHONE_REGIONS: withDefault('US,GB,DE,FR').pipe(
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((r) => r.trim().toUpperCase())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.string().refine((r) => isSupportedCountry(r), 'expected ISO 3166 region codes such as US,GB,DE'))
          .min(1),
      ),
  ),
  /** Per-request timeout of one model call, in milliseconds. */
  MANDATE_PROVIDER_TIMEOUT_MS: withDefault('60000').pipe(
    z
      .string()
      .regex(/^\d+$/, 'a whole number of milliseconds')
      .transform(Number)
      .pipe(z.number().int().min(1000).max(600_000)),
  ),
  /** Prices per million tokens to add or override (JSON: {"provider:model": {inputPerMTokUsd, outputPerMTokUsd}}). */
  MANDATE_PRICES: optional(
    z.string().transform((text, ctx) => {
      try {
        return PriceTable.parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'JSON object "provider:model" → {inputPerMTokUsd, outputPerMTokUsd}' });
        return z.NEVER;
      }
    }),
  ),
});

export interface ProviderConfig {
  openai: { id: string; model: string; baseURL?: string; apiKey?: Secret; hasKey: boolean };
  anthropic: { id: string; model: string; baseURL?: string; apiKey?: Secret; hasKey: boolean };
  ollama: { id: string; model: string; host: string; apiKey?: Secret };
  /** Provider names inside the deployment boundary; `offline` always is (it never leaves the process). */
  boundaryInside: ReadonlySet<ProviderName>;
  /** Regions whose national phone formats are recognised when pseudonymising for providers outside. */
  phoneRegions: string[];
  timeoutMs: number;
  /** Prices configured on top of the built-in ones. */
  prices: Record<string, Price>;
}

const secret = (value: string | undefined) => (value === undefined ? undefined : new Secret(value));

export function parseProviderConfig(env: Env): ProviderConfig {
  const result = ProviderEnv.safeParse(env);
  if (!result.success) {
    // Path and problem only: zod does not echo input values unless asked, and we never ask.
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid provider settings: ${problems.join('; ')}`);
  }
  const e = result.data;
  const hosted = (name: 'openai' | 'anthropic', model: string, key?: string, baseURL?: string) => ({
    id: `${name}:${model}`,
    model,
    baseURL,
    apiKey: secret(key),
    hasKey: key !== undefined,
  });
  return {
    openai: hosted('openai', e.MANDATE_OPENAI_MODEL, e.OPENAI_API_KEY, e.OPENAI_BASE_URL),
    anthropic: hosted('anthropic', e.MANDATE_ANTHROPIC_MODEL, e.ANTHROPIC_API_KEY, e.ANTHROPIC_BASE_URL),
    ollama: {
      id: `ollama:${e.MANDATE_OLLAMA_MODEL}`,
      model: e.MANDATE_OLLAMA_MODEL,
      host: e.OLLAMA_HOST,
      apiKey: secret(e.OLLAMA_API_KEY),
    },
    boundaryInside: new Set<ProviderName>([...e.MANDATE_BOUNDARY_INSIDE, 'offline']),
    phoneRegions: e.MANDATE_PHONE_REGIONS,
    timeoutMs: e.MANDATE_PROVIDER_TIMEOUT_MS,
    prices: e.MANDATE_PRICES ?? {},
  };
}

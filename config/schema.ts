import { z } from 'zod';

/** Shared pieces of the configuration schemas. */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An empty or blank variable means "not set" (`OPENAI_API_KEY=` in a .env file). */
export const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

export const optionalUrl = optionalText.pipe(z.url({ protocol: /^https?$/ }).optional());

export const flag = (fallback: 'true' | 'false') => z.enum(['true', 'false', '1', '0']).default(fallback);
export const yes = (value: string) => value === 'true' || value === '1';

export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** Parses one section; the first problem becomes a one-line ConfigError naming the variable. */
export function parseSection<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    // Path and problem only: zod does not echo input values unless asked, and we never ask (keys stay secret).
    throw new ConfigError(`configuration error: ${issue.path.join('.') || 'environment'}: ${issue.message}`);
  }
  return result.data;
}

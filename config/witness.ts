import { resolve } from 'node:path';
import { z } from 'zod';
import type { Env } from './schema';
import { ConfigError, optionalText, parseSection, port } from './schema';

/** Settings of `mandate witness`, the transparency-log witness service. */
const WitnessEnv = z.object({
  /** Key, state and refusal record (default <data dir>/witness). */
  MANDATE_WITNESS_DIR: optionalText,
  /** The witness's key name, used when its key is generated (default mandate-witness). */
  MANDATE_WITNESS_NAME: z
    .string()
    .regex(/^[^\s+]+$/, 'a key name without spaces or "+"')
    .default('mandate-witness'),
  /** Cosigner key (`PRIVATE+KEY+…`), inline or a file path. Without one, a key is generated in the dir. */
  MANDATE_WITNESS_SIGNER_KEY: optionalText,
  MANDATE_WITNESS_HOST: z.string().min(1).default('127.0.0.1'),
  MANDATE_WITNESS_PORT: port(7380),
  /** Logs followed: `<origin>=<log verifier key>`, separated by commas or newlines (default: this data dir's audit log). */
  MANDATE_WITNESS_LOGS: optionalText,
});

export interface WitnessServiceConfig {
  dir: string;
  name: string;
  signerKey?: string;
  host: string;
  port: number;
  /** Unset: follow the local audit log (its origin and verifier key). */
  logs?: { origin: string; verifierKey: string }[];
}

export function parseWitnessConfig(env: Env, base: { dataDir: string }): WitnessServiceConfig {
  const c = parseSection(WitnessEnv, env);
  return {
    dir: resolve(c.MANDATE_WITNESS_DIR ?? `${base.dataDir}/witness`),
    name: c.MANDATE_WITNESS_NAME,
    signerKey: c.MANDATE_WITNESS_SIGNER_KEY,
    host: c.MANDATE_WITNESS_HOST,
    port: c.MANDATE_WITNESS_PORT,
    ...(c.MANDATE_WITNESS_LOGS ? { logs: parseLogs(c.MANDATE_WITNESS_LOGS, 'MANDATE_WITNESS_LOGS') } : {}),
  };
}

/** `<origin>=<vkey>` entries (split at the first "="), separated by commas or newlines. */
export function parseLogs(text: string, variable: string): { origin: string; verifierKey: string }[] {
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf('=');
      const origin = entry.slice(0, at).trim();
      const verifierKey = entry.slice(at + 1).trim();
      if (at <= 0 || !/^[^+\s]+\+[0-9a-f]{8}\+\S+$/.test(verifierKey)) {
        throw new ConfigError(
          `configuration error: ${variable}: each entry is <log origin>=<log verifier key>, got ${JSON.stringify(entry.slice(0, 80))}`,
        );
      }
      return { origin, verifierKey };
    });
}

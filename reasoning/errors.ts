import { APIConnectionError as AnthropicConnectionError } from '@anthropic-ai/sdk';
import { APIConnectionError as OpenAIConnectionError } from 'openai';
import { ProviderError } from './provider';

/**
 * The one place that decides whether a provider failure is worth retrying. Temporal's activity retry
 * owns retrying (every SDK runs with `maxRetries: 0`), so this only has to say *whether* and *when*:
 * HTTP 408/409/429/5xx, connection failures and timeouts are retryable, with `retryAfterMs` taken from
 * `retry-after-ms` or `Retry-After` (seconds or HTTP date); everything else is not.
 */

export interface ClassifyContext {
  /** `provider:model`, named in every message. */
  provider: string;
  /** Environment variable that holds the key, named in 401/403 messages (e.g. `OPENAI_API_KEY`). */
  keyVariable?: string;
  /** Response headers when the SDK does not keep them on its error (ollama). */
  headers?: Headers;
  /** Values that must never appear in a message (the API key), replaced by `[secret]`. */
  secrets?: (string | undefined)[];
}

const RETRYABLE_STATUS = new Set([408, 409, 429]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);
const MAX_MESSAGE = 500;

export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUS.has(status) || status >= 500;

/** Milliseconds to wait from `retry-after-ms`, else `Retry-After` (delta-seconds or HTTP date); undefined if absent/bad. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Math.round(Number(ms));
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function truncate(text: string, max = MAX_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

/** openai/anthropic keep `status`, ollama's ResponseError keeps `status_code`. */
function statusOf(err: unknown): number | undefined {
  const status = field(err, 'status') ?? field(err, 'status_code');
  return typeof status === 'number' ? status : undefined;
}

/** The API's own explanation: `error.message` in openai/anthropic bodies, `error` in ollama's. */
function apiMessageOf(err: unknown): string {
  const body = field(err, 'error');
  const candidates = [field(err, 'apiMessage'), field(body, 'message'), field(field(body, 'error'), 'message'), body];
  const found = candidates.find((c): c is string => typeof c === 'string' && c.length > 0);
  return found ?? (err instanceof Error ? err.message : String(err));
}

/** Timeouts and failures to connect, however the SDK or fetch wraps them. */
function isNetworkFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = field(e, 'cause'), depth++) {
    // Both SDKs' timeout errors extend their APIConnectionError.
    if (e instanceof OpenAIConnectionError || e instanceof AnthropicConnectionError) return true;
    const code = field(e, 'code');
    if (field(e, 'name') === 'TimeoutError' || (typeof code === 'string' && NETWORK_CODES.has(code))) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

function scrub(message: string, secrets: (string | undefined)[] = []): string {
  let out = message;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[secret]');
  return out;
}

/** Turns whatever a provider call threw into a {@link ProviderError} that says whether to retry. */
export function classifyProviderError(err: unknown, ctx: ClassifyContext): ProviderError {
  if (err instanceof ProviderError) return err;
  const { provider } = ctx;
  const status = statusOf(err);
  const say = (message: string): string => scrub(message, ctx.secrets);

  if (status === undefined) {
    if (isNetworkFailure(err)) {
      const detail = truncate(err instanceof Error ? err.message : String(err));
      return new ProviderError(say(`${provider} could not be reached or timed out: ${detail}`), true, { cause: err });
    }
    // Not an HTTP or network failure: a bug or an unexpected SDK error. Retrying would repeat it.
    return new ProviderError(say(`${provider} call failed: ${truncate(apiMessageOf(err))}`), false, { cause: err });
  }

  const headers = (field(err, 'headers') as Headers | undefined) ?? ctx.headers;
  const headersLike = headers && typeof headers.get === 'function' ? headers : undefined;
  if (status === 401 || status === 403) {
    // The API's own message is left out on purpose: some echo a masked form of the key.
    const where = ctx.keyVariable ? ` (check ${ctx.keyVariable})` : '';
    return new ProviderError(
      `${provider} refused the credentials (HTTP ${status}): the API key is missing or invalid${where}`,
      false,
      { status, cause: err },
    );
  }
  const detail = truncate(apiMessageOf(err));
  if (isRetryableStatus(status)) {
    const wait = retryAfterMs(headersLike);
    return new ProviderError(say(`${provider} is unavailable (HTTP ${status}), retry later: ${detail}`), true, {
      status,
      retryAfterMs: wait,
      cause: err,
    });
  }
  return new ProviderError(say(`${provider} rejected the request (HTTP ${status}): ${detail}`), false, {
    status,
    cause: err,
  });
}

/**
 * Reads a model's JSON reply. A reply that is not JSON is an invalid reply like a schema-invalid one:
 * the router re-asks with `invalid` as feedback (showing the start of what came back), then fails.
 */
export function readModelJson(
  provider: string,
  text: string | null | undefined,
  what = 'content',
): { step: unknown } | { invalid: string } {
  if (text === null || text === undefined || text.trim() === '') {
    return { invalid: `${provider} returned empty ${what} instead of a JSON reasoning step` };
  }
  try {
    return { step: JSON.parse(text) };
  } catch {
    return { invalid: `${provider} returned ${what} that is not valid JSON: ${truncate(text, 300)}` };
  }
}

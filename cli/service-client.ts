import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MandateConfig } from '../config';

/**
 * The approver CLI's side of the approvals service: stored credentials (`mandate login`) and a
 * small JSON client. Errors carry the service's code as their name, so `--json` prints it.
 */
export interface Credentials {
  url: string;
  token: string;
}

/** Stored in `config.credentialsFile` (`$XDG_CONFIG_HOME/mandate/credentials.json`), mode 0600. */
export function readCredentials(path: string): Credentials | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
    return typeof value.url === 'string' && typeof value.token === 'string'
      ? { url: value.url, token: value.token }
      : undefined;
  } catch {
    throw new Error(`${path} is not valid JSON: run \`mandate login\` again`);
  }
}

export function storeCredentials(path: string, credentials: Credentials): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // writeFileSync keeps an existing file's mode.
  return path;
}

export function forgetCredentials(path: string): boolean {
  if (!existsSync(path)) return false;
  rmSync(path);
  return true;
}

export class ServiceError extends Error {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

export class ApprovalsServiceClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.url), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new Error(`cannot reach the approvals service at ${this.url} (${(err as Error).message})`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`the approvals service at ${this.url} answered ${response.status} with no JSON`);
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new ServiceError(error?.code ?? `http_${response.status}`, error?.message ?? text, response.status);
    }
    return parsed as T;
  }
}

/**
 * The service this CLI talks to: MANDATE_APPROVALS_URL / MANDATE_APPROVALS_TOKEN override what
 * `mandate login` stored. Undefined when neither is configured.
 */
export function serviceFromConfig(config: MandateConfig): ApprovalsServiceClient | undefined {
  const stored = readCredentials(config.credentialsFile);
  const url = config.approvals.url ?? stored?.url;
  const token = config.approvals.token ?? stored?.token;
  if (!url && !token) return undefined;
  if (!url)
    throw new Error(
      'a token is configured but no service URL: set MANDATE_APPROVALS_URL or run `mandate login --url …`',
    );
  if (!token) throw new Error(`no token for the approvals service at ${url}: run \`mandate login\``);
  return new ApprovalsServiceClient(url, token);
}

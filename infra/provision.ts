import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/**
 * What the project's tool provisioning shares (the Temporal CLI, the local S3 server): the cache
 * folder outside the checkout, finding executables, a one-time `go install` into the cache, and a
 * free loopback port for servers the project starts.
 */

/** `$MANDATE_CACHE_DIR`, else `$XDG_CACHE_HOME/mandate`, else `~/.cache/mandate`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MANDATE_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mandate');
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export interface GoInstall {
  /** `module/path/cmd/name@version`. */
  pkg: string;
  /** Name of the binary `go install` produces. */
  binary: string;
  /** Where the binary is kept (moved there only when the build succeeded). */
  target: string;
  extraArgs?: string[];
  env: NodeJS.ProcessEnv;
}

/** Runs `go install` into a staging folder and moves the binary to `target`; returns an error text, or undefined. */
export function goInstall(go: string, build: GoInstall): string | undefined {
  const staging = mkdtempSync(join(tmpdir(), `mandate-${build.binary}-`));
  try {
    const result = spawnSync(go, ['install', ...(build.extraArgs ?? []), build.pkg], {
      env: { ...build.env, GOBIN: staging, GOFLAGS: build.env.GOFLAGS ?? '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0 || !existsSync(join(staging, build.binary))) {
      return `go install failed (exit ${result.status ?? result.signal})`;
    }
    mkdirSync(dirname(build.target), { recursive: true });
    renameSync(join(staging, build.binary), build.target);
    return undefined;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

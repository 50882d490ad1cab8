import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { ToolsConfig } from '../config';
import { loadConfig } from '../config';

/**
 * What the project's tool provisioning shares (the Temporal CLI, the local S3 server): one lookup
 * order — the configured binary, PATH, the cache folder outside the checkout, a one-time
 * `go install` into that cache, then the tool's own fallback — and a free loopback port for the
 * servers the project starts.
 */

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** A tool the project can find or build. */
export interface ToolSpec {
  /** What people call it, e.g. "the Temporal CLI". */
  title: string;
  /** The setting that names a binary to use, e.g. TEMPORAL_CLI. */
  setting: string;
  configured?: string;
  binary: string;
  version: string;
  /** `module/path/cmd/name` for `go install <pkg>@<version>`. */
  pkg: string;
  goArgs?: string[];
  /** Minutes a cold build takes, for the log line. */
  buildMinutes: string;
  /** Tried when no Go toolchain is there or the build failed; throws with why. */
  fallback?: (target: string, log: (line: string) => void) => Promise<string>;
  /** Numbered ways out, for the error when nothing worked. */
  remedies: (target: string) => string[];
}

export class ToolNotFound extends Error {
  override name = 'ToolNotFound';
}

export interface ProvisionOptions {
  log?: (line: string) => void;
  /** Where to look and cache (default: the process configuration). */
  tools?: ToolsConfig;
}

export function cachedToolPath(spec: Pick<ToolSpec, 'binary' | 'version'>, tools: ToolsConfig): string {
  return join(tools.cacheDir, `${spec.binary}-${spec.version}`, spec.binary);
}

/** Returns the path of a working binary for the tool, building it (or using its fallback) the first time. */
export async function provisionTool(spec: ToolSpec, options: ProvisionOptions = {}): Promise<string> {
  const tools = options.tools ?? loadConfig().tools;
  const log = options.log ?? (() => undefined);
  if (spec.configured) {
    if (!isExecutable(spec.configured))
      throw new ToolNotFound(`${spec.setting}=${spec.configured} is not an executable file`);
    return spec.configured;
  }
  const fromPath = onPath(spec.binary, tools.path);
  if (fromPath) return fromPath;
  const cached = cachedToolPath(spec, tools);
  if (isExecutable(cached)) return cached;

  let why = 'Go is not installed';
  const go = onPath('go', tools.path);
  if (go) {
    log(
      `Building ${spec.title} ${spec.version} with go install into ${cached} (one time; ${spec.buildMinutes} minutes)…`,
    );
    const failed = goInstall(go, {
      pkg: `${spec.pkg}@${spec.version}`,
      binary: spec.binary,
      target: cached,
      extraArgs: spec.goArgs,
      env: tools.env,
    });
    if (!failed) {
      log(`${spec.title} ready: ${cached}`);
      return cached;
    }
    why = failed;
  }
  if (spec.fallback) {
    log(`${why}; trying ${spec.title}'s release archive.`);
    try {
      return await spec.fallback(cached, log);
    } catch (err) {
      why = (err as Error).message;
    }
  }
  throw new ToolNotFound(
    [
      `No ${spec.title} found, and it could not be provisioned (${why}). Fix it in one of these ways:`,
      ...spec.remedies(cached),
    ].join('\n'),
  );
}

interface GoInstall {
  pkg: string;
  binary: string;
  target: string;
  extraArgs?: string[];
  env: Record<string, string | undefined>;
}

/** Runs `go install` into a staging folder and moves the binary to `target`; returns an error text, or undefined. */
function goInstall(go: string, build: GoInstall): string | undefined {
  const staging = mkdtempSync(join(tmpdir(), `mandate-${build.binary}-`));
  try {
    const result = spawnSync(go, ['install', ...(build.extraArgs ?? []), build.pkg], {
      env: { ...build.env, GOBIN: staging, GOFLAGS: build.env.GOFLAGS ?? '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0 || !existsSync(join(staging, build.binary))) {
      return `go install failed (exit ${result.status ?? result.signal})`;
    }
    install(join(staging, build.binary), build.target);
    return undefined;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export function install(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  renameSync(from, to);
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

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../config';
import { freePort } from '../provision';
import { provisionS3Server } from './provision-s3-server';

/**
 * Starts a local versitygw (S3 API over its posix backend) on 127.0.0.1 and a free port, with fresh
 * random root credentials, and waits until its health endpoint answers. Object Lock needs
 * versioning, so the server always runs with `--versioning-dir`; metadata (retention, legal holds,
 * checksums) goes to a sidecar directory rather than xattrs, so any filesystem works.
 *
 *   <dataDir>/buckets   one directory per bucket, objects at their key paths
 *   <dataDir>/versions  older object versions
 *   <dataDir>/meta      sidecar metadata
 *   <dataDir>/iam       the gateway's internal IAM store
 */
export interface S3ServerOptions {
  dataDir: string;
  port?: number;
  region?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const HEALTH_PATH = '/health';
const STOP_GRACE_MS = 5_000;

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const tools = loadConfig().tools;
  const binary = await provisionS3Server({ log: options.log, tools });
  const dataDir = resolve(options.dataDir);
  const dirs = { buckets: 'buckets', versions: 'versions', meta: 'meta', iam: 'iam' };
  for (const dir of Object.values(dirs)) mkdirSync(join(dataDir, dir), { recursive: true });
  const port = options.port ?? (await freePort());
  const region = options.region ?? 'us-east-1';
  const accessKeyId = `mandate${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const endpoint = `http://127.0.0.1:${port}`;

  // Credentials travel in the environment, not argv, so `ps` does not show them.
  const args = [
    '--port',
    `127.0.0.1:${port}`,
    '--region',
    region,
    '--iam-dir',
    join(dataDir, dirs.iam),
    '--health',
    HEALTH_PATH,
    '--quiet',
    'posix',
    '--sidecar',
    join(dataDir, dirs.meta),
    '--versioning-dir',
    join(dataDir, dirs.versions),
    join(dataDir, dirs.buckets),
  ];
  const child = spawn(binary, args, {
    env: { ...tools.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      done();
    }),
  );

  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`versitygw exited with code ${exitCode} before becoming ready:\n${output}`);
    try {
      const response = await fetch(`${endpoint}${HEALTH_PATH}`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`versitygw did not answer ${endpoint}${HEALTH_PATH} within the timeout:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  options.log?.(`versitygw listening on ${endpoint} (data in ${dataDir})`);
  return { endpoint, region, accessKeyId, secretAccessKey, process: child, stop };
}

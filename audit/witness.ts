import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Cosigner } from '../core/cosignature';
import { cosign, parseCosignerKey } from '../core/cosignature';
import { emptyRoot, verifyConsistency } from '../core/merkle';
import { NoteError, openNote, parseCheckpoint, parseVerifierKey } from '../core/signed-note';

/**
 * A transparency-log witness (C2SP tlog-witness `add-checkpoint`, cosigning with C2SP
 * tlog-cosignature Ed25519 `cosignature/v1`). For each log it follows — an origin line and the log's
 * verifier keys — it keeps the latest checkpoint it cosigned, and cosigns a new one only when the
 * log's signature verifies and a consistency proof shows it extends that one. It refuses anything
 * else: an unknown origin (404), a checkpoint without a valid log signature (403), a request from a
 * stale or rolled-back view (409, answering the size it holds), an old size above the new one (400),
 * and a proof that does not verify or a same-size checkpoint with another root (422) — the last two
 * are a log showing different histories, kept in `refused.jsonl` as evidence.
 *
 * Checking and updating the state is one step per witness (requests are serialised), and the state
 * is on disk (written to a temp file, fsynced, renamed) before the cosignature is returned.
 */
export interface WitnessedLog {
  origin: string;
  /** The log's checkpoint verifier keys (C2SP note vkeys). */
  verifierKeys: string[];
}

export interface WitnessOptions {
  /** The witness's cosigner key (`PRIVATE+KEY+<name>+<id>+…`, type 0x04 or 0x01). */
  signerKey: string;
  logs: WitnessedLog[];
  /** The JSON state file; its folder also receives `refused.jsonl`. */
  statePath: string;
  /** POSIX seconds (tests); default: the clock. */
  now?: () => number;
}

export interface WitnessState {
  logs: Record<string, { size: number; rootHash: string; checkpoint: string; at: string }>;
}

export interface WitnessResponse {
  status: number;
  body: string;
  contentType: string;
}

const MAX_PROOF_LINES = 63;
const SIZE_CONTENT_TYPE = 'text/x.tlog.size';

export class Witness {
  readonly cosigner: Cosigner;
  private readonly logs: Map<string, WitnessedLog>;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: WitnessOptions,
    private state: WitnessState,
  ) {
    this.cosigner = parseCosignerKey(options.signerKey);
    for (const log of options.logs) log.verifierKeys.forEach((key) => parseVerifierKey(key));
    this.logs = new Map(options.logs.map((log) => [log.origin, log]));
  }

  /** Opens the witness with its state file (created on the first cosignature). */
  static async open(options: WitnessOptions): Promise<Witness> {
    let state: WitnessState = { logs: {} };
    try {
      state = JSON.parse(await readFile(options.statePath, 'utf8')) as WitnessState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new Witness(options, state);
  }

  get name(): string {
    return this.cosigner.name;
  }

  get verifierKey(): string {
    return this.cosigner.verifierKey;
  }

  /** The origins this witness follows. */
  origins(): string[] {
    return [...this.logs.keys()];
  }

  /** What the witness holds for a log: its latest cosigned size and root. */
  stateOf(origin: string): WitnessState['logs'][string] | undefined {
    return this.state.logs[origin];
  }

  /** The latest cosigned checkpoint (with the log's and this witness's signatures) by origin hash. */
  latestCheckpoint(originSha256Hex: string): string | undefined {
    const origin = [...this.logs.keys()].find((o) => sha256(o) === originSha256Hex);
    return origin ? this.state.logs[origin]?.checkpoint : undefined;
  }

  /** Handles one `add-checkpoint` request body. */
  async addCheckpoint(requestBody: string): Promise<WitnessResponse> {
    const parsed = parseRequest(requestBody);
    if ('error' in parsed) return reply(400, parsed.error);
    const { oldSize, proof, note } = parsed;
    const origin = note.slice(0, note.indexOf('\n'));
    const log = this.logs.get(origin);
    if (!log) return reply(404, `unknown log origin ${JSON.stringify(origin)}`);
    let body: string;
    try {
      body = openNote(note, log.verifierKeys).body;
    } catch (err) {
      const type = err instanceof NoteError ? err.type : undefined;
      if (type === 'UnverifiedNote' || type === 'InvalidSignature')
        return reply(403, `checkpoint is not signed by the log: ${(err as Error).message}`);
      return reply(400, `malformed checkpoint: ${(err as Error).message}`);
    }
    let checkpoint: ReturnType<typeof parseCheckpoint>;
    try {
      checkpoint = parseCheckpoint(body);
    } catch (err) {
      return reply(400, `malformed checkpoint: ${(err as Error).message}`);
    }
    if (oldSize > checkpoint.size) return reply(400, `old size ${oldSize} is above the checkpoint size`);
    return this.serial(() => this.update(origin, oldSize, proof, note, body, checkpoint));
  }

  private async update(
    origin: string,
    oldSize: number,
    proof: Buffer[],
    note: string,
    body: string,
    checkpoint: ReturnType<typeof parseCheckpoint>,
  ): Promise<WitnessResponse> {
    const held = this.state.logs[origin];
    const current = held?.size ?? 0;
    if (oldSize !== current) return { status: 409, body: `${current}\n`, contentType: SIZE_CONTENT_TYPE };
    const refuse = async (why: string) => {
      await this.recordRefusal({ origin, oldSize, why, note, held: held?.checkpoint });
      return reply(422, why);
    };
    if (checkpoint.size === 0 && !checkpoint.rootHash.equals(emptyRoot()))
      return refuse('a checkpoint of size 0 must have the empty root');
    if (oldSize === 0) {
      if (proof.length) return refuse('a consistency proof from size 0 must be empty');
    } else if (oldSize === checkpoint.size) {
      if (held!.rootHash !== checkpoint.rootHash.toString('base64'))
        return refuse(`a checkpoint of size ${oldSize} with a root other than the one cosigned before`);
    } else if (
      !verifyConsistency(oldSize, checkpoint.size, Buffer.from(held!.rootHash, 'base64'), checkpoint.rootHash, proof)
    ) {
      return refuse(`the consistency proof from size ${oldSize} to ${checkpoint.size} does not verify`);
    }
    const line = cosign(body, this.cosigner, this.options.now?.() ?? Math.floor(Date.now() / 1000));
    const next: WitnessState = {
      logs: {
        ...this.state.logs,
        [origin]: {
          size: checkpoint.size,
          rootHash: checkpoint.rootHash.toString('base64'),
          checkpoint: `${note}${line}`,
          at: new Date().toISOString(),
        },
      },
    };
    await writeDurably(this.options.statePath, `${JSON.stringify(next, null, 2)}\n`);
    this.state = next;
    return { status: 200, body: line, contentType: 'text/plain; charset=utf-8' };
  }

  private async recordRefusal(entry: Record<string, unknown>): Promise<void> {
    const path = join(dirname(this.options.statePath), 'refused.jsonl');
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Parses `old <size>\n<proof lines>\n\n<checkpoint note>` strictly. */
function parseRequest(text: string): { oldSize: number; proof: Buffer[]; note: string } | { error: string } {
  const blank = text.indexOf('\n\n');
  if (blank < 0) return { error: 'the request needs an old size line, proof lines, a blank line and a checkpoint' };
  const [sizeLine, ...proofLines] = text.slice(0, blank).split('\n');
  const size = /^old (0|[1-9][0-9]*)$/.exec(sizeLine)?.[1];
  if (size === undefined || !Number.isSafeInteger(Number(size))) return { error: `malformed old size line` };
  if (proofLines.length > MAX_PROOF_LINES) return { error: `more than ${MAX_PROOF_LINES} proof lines` };
  const proof: Buffer[] = [];
  for (const line of proofLines) {
    const hash = Buffer.from(line, 'base64');
    if (hash.length !== 32 || hash.toString('base64') !== line) return { error: 'a proof line is not a base64 hash' };
    proof.push(hash);
  }
  return { oldSize: Number(size), proof, note: text.slice(blank + 2) };
}

function reply(status: number, message: string): WitnessResponse {
  return { status, body: `${message}\n`, contentType: 'text/plain; charset=utf-8' };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

async function writeDurably(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

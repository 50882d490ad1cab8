import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A lock older than this belongs to a process that died while holding it. */
const STALE_LOCK_MS = 30_000;
const WAIT_MS = 10_000;

/**
 * Read-modify-write of a small secret file (0600) under an exclusive lock file (`<path>.lock`,
 * created with O_EXCL), replaced atomically (written to a temporary file, then renamed), so two
 * writers never lose each other's change and a reader never sees half a file.
 */
export function updateLockedFile(path: string, change: (text: string | undefined) => string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lock = `${path}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${path} is locked by another writer (${lock})`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    const next = change(existsSync(path) ? readFileSync(path, 'utf8') : undefined);
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, next, { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600); // the umask may have narrowed or widened it
    renameSync(temporary, path);
  } finally {
    rmSync(lock, { force: true });
  }
}

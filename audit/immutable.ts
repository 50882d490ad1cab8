import { execFile } from 'node:child_process';
import { LegalHoldUnsupported } from './store';

/**
 * The Linux immutable flag, the filesystem store's deletion lock: a file with it cannot be unlinked,
 * renamed or written, by root included, until someone holding CAP_LINUX_IMMUTABLE clears it. Set and
 * read with e2fsprogs' `chattr`/`lsattr` (Node has no ioctl), on ext4, xfs, btrfs and most local
 * filesystems; tmpfs and network filesystems generally lack it.
 */
const BATCH = 200;

export async function setImmutable(paths: readonly string[], on: boolean): Promise<void> {
  for (let i = 0; i < paths.length; i += BATCH) {
    await run('chattr', [on ? '+i' : '-i', '--', ...paths.slice(i, i + BATCH)]);
  }
}

export async function isImmutable(path: string): Promise<boolean> {
  const out = await run('lsattr', ['-d', '--', path]);
  return /^\S*i/.test(out.trim());
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${command} is not installed` : stderr.trim();
      reject(
        new LegalHoldUnsupported(
          `the filesystem audit store cannot ${args[0] === '-d' ? 'read' : 'set'} the immutable flag (${why || error.message}): ` +
            'it needs root or CAP_LINUX_IMMUTABLE on a filesystem that supports it (ext4, xfs, btrfs), and e2fsprogs; or use the S3 store',
        ),
      );
    }),
  );
}

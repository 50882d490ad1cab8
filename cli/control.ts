import type { Command } from 'commander';
import { haltAll, sendControl } from '../client/controls';
import type { CommandContext } from './commands';
import { printJson } from './output';

/** The kill switch: `mandate halt|pause|resume`. */
export function registerControlCommands(
  program: Command,
  context: (cmd: Command) => Promise<CommandContext>,
  by: () => string,
): void {
  program
    .command('halt [missionId]')
    .description('halt a mission (or --all, or --type <mission>): it executes nothing further and closes "halted"')
    .requiredOption('--reason <text>', 'why (recorded on the rail)')
    .option('--all', 'every running mission')
    .option('--type <missionType>', 'every running mission of this type')
    .action(
      async (missionId: string | undefined, opts: { reason: string; all?: boolean; type?: string }, cmd: Command) => {
        const ctx = await context(cmd);
        const input = { by: by(), reason: opts.reason };
        if (missionId && (opts.all || opts.type)) throw new Error('give a mission id, or --all / --type, not both');
        if (!missionId && !opts.all && !opts.type) throw new Error('give a mission id, --all or --type <missionType>');
        const halted = missionId
          ? (await sendControl(ctx.client, missionId, 'halt', input), [missionId])
          : await haltAll(ctx.client, input, opts.type);
        if (ctx.json) return printJson({ halted });
        process.stdout.write(
          `halt sent to ${halted.length} mission(s)${halted.length ? `: ${halted.join(', ')}` : ''}\n`,
        );
      },
    );
  for (const kind of ['pause', 'resume'] as const) {
    program
      .command(`${kind} <missionId>`)
      .description(
        kind === 'pause'
          ? 'pause a mission before its next step (its approval clock stops)'
          : 'resume a paused mission',
      )
      .requiredOption('--reason <text>', 'why (recorded on the rail)')
      .action(async (missionId: string, opts: { reason: string }, cmd: Command) => {
        const ctx = await context(cmd);
        await sendControl(ctx.client, missionId, kind, { by: by(), reason: opts.reason });
        if (ctx.json) return printJson({ missionId, [kind === 'pause' ? 'paused' : 'resumed']: true });
        process.stdout.write(`${kind} sent to ${missionId}\n`);
      });
  }
}

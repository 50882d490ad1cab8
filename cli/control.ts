import type { Command } from 'commander';
import { confirmHalt, describeHalt, haltAll, sendControl } from '../client/controls';
import type { HaltConfirmation } from '../client/controls';
import type { ControlKind } from '../contract/mission';
import { requireService } from './approver';
import type { CommandContext } from './commands';
import { operatorSigner } from './commands';
import { printJson } from './output';

/**
 * The kill switch: `mandate halt|pause|resume`. Signed like every control: through the approvals
 * service as who you logged in as (a control role of the mission is needed), or with `--direct`,
 * signed with the operators' break-glass key. A halt is reported once the mission has closed.
 */
interface ControlOptions {
  reason: string;
  direct?: boolean;
  as?: string;
  role?: string;
}

export function registerControlCommands(
  program: Command,
  context: (cmd: Command) => Promise<CommandContext>,
  user: () => string,
): void {
  const json = (cmd: Command) => Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
  const direct = (command: Command) =>
    command
      .option('--direct', 'operators: sign with the break-glass key and send straight to Temporal')
      .option('--as <name>', 'with --direct: who sends it (default $MANDATE_USER or your login)')
      .option('--role <a,b>', 'with --direct: the control role(s) claimed, comma-separated', 'operator');
  const signedBy = (ctx: CommandContext, opts: ControlOptions) => {
    const signer = operatorSigner(ctx);
    const roles = (opts.role ?? 'operator')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    return (missionId: string, kind: ControlKind) =>
      signer.signControl(missionId, kind, { by: opts.as ?? user(), roles, reason: opts.reason });
  };
  const serviceOnly = (opts: ControlOptions) => {
    if (opts.as || (opts.role && opts.role !== 'operator')) {
      throw new Error(
        '--as and --role apply only with --direct: through the approvals service you are who you logged in as',
      );
    }
    return requireService();
  };

  direct(
    program
      .command('halt [missionId]')
      .description('halt a mission (or --all, or --type <mission>): it executes nothing further and closes "halted"')
      .requiredOption('--reason <text>', 'why (recorded on the rail)')
      .option('--all', 'every running mission')
      .option('--type <missionType>', 'every running mission of this type'),
  ).action(
    async (missionId: string | undefined, opts: ControlOptions & { all?: boolean; type?: string }, cmd: Command) => {
      if (missionId && (opts.all || opts.type)) throw new Error('give a mission id, or --all / --type, not both');
      if (!missionId && !opts.all && !opts.type) throw new Error('give a mission id, --all or --type <missionType>');
      let halted: string[];
      let confirmed: HaltConfirmation[] | undefined;
      if (opts.direct) {
        const ctx = await context(cmd);
        const sign = signedBy(ctx, opts);
        if (missionId) await sendControl(ctx.client, missionId, 'halt', sign(missionId, 'halt'));
        halted = missionId ? [missionId] : await haltAll(ctx.client, (id) => sign(id, 'halt'), opts.type);
        confirmed = await Promise.all(halted.map((id) => confirmHalt(ctx.client, id)));
      } else {
        const service = serviceOnly(opts);
        if (missionId) {
          const sent = await service.post<{ confirmed: HaltConfirmation }>(
            `/api/missions/${encodeURIComponent(missionId)}/controls/halt`,
            { reason: opts.reason },
          );
          halted = [missionId];
          confirmed = [sent.confirmed];
        } else {
          const sent = await service.post<{ halted: string[] }>('/api/halt', {
            reason: opts.reason,
            missionType: opts.type,
          });
          halted = sent.halted;
        }
      }
      if (json(cmd)) return printJson({ halted, ...(confirmed ? { confirmed } : {}) });
      process.stdout.write(
        `halt sent to ${halted.length} mission(s)${halted.length ? `: ${halted.join(', ')}` : ''}\n`,
      );
      for (const c of confirmed ?? []) process.stdout.write(`${describeHalt(c)}\n`);
    },
  );

  for (const kind of ['pause', 'resume'] as const) {
    direct(
      program
        .command(`${kind} <missionId>`)
        .description(
          kind === 'pause'
            ? 'pause a mission before its next step (its approval clock stops)'
            : 'resume a paused mission',
        )
        .requiredOption('--reason <text>', 'why (recorded on the rail)'),
    ).action(async (missionId: string, opts: ControlOptions, cmd: Command) => {
      if (opts.direct) {
        const ctx = await context(cmd);
        await sendControl(ctx.client, missionId, kind, signedBy(ctx, opts)(missionId, kind));
      } else {
        await serviceOnly(opts).post(`/api/missions/${encodeURIComponent(missionId)}/controls/${kind}`, {
          reason: opts.reason,
        });
      }
      if (json(cmd)) return printJson({ missionId, [kind === 'pause' ? 'paused' : 'resumed']: true });
      process.stdout.write(`${kind} sent to ${missionId}\n`);
    });
  }
}

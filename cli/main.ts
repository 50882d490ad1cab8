import { Command, CommanderError } from 'commander';
import { registerApproverCommands } from './approver';
import { registerAuditCommands } from './audit';
import { registerAuditReportCommands } from './audit-report';
import { registerAuditTrustCommands } from './audit-trust';
import { registerCodecCommands } from './codec';
import { missionList, missionShow, missionStart, readInput } from './commands';
import { cliConfig, closeTemporal, temporalContext as context } from './context';
import { startThroughService } from './approver';
import { registerControlCommands } from './control';
import { registerPolicyCommands } from './policy';
import { registerWitnessCommand } from './witness';

/** `mandate`: operators start and inspect missions; approvers list and decide pending actions. */

const defaultUser = () => cliConfig().user;

export function buildProgram(): Command {
  const program = new Command('mandate')
    .description('Governed AI missions on Temporal: start and inspect missions, decide pending actions.')
    .option('--json', 'machine-readable JSON output')
    .option('--address <host:port>', 'Temporal frontend (default $MANDATE_TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default $MANDATE_NAMESPACE or "default")')
    .option('--task-queue <name>', 'mission task queue (default $MANDATE_TASK_QUEUE or "mandate-missions")')
    .showHelpAfterError()
    // Set before subcommands are added so they inherit it: usage errors then reach main() (exit 2).
    .exitOverride();

  const mission = program.command('mission').description('start, list and inspect missions');
  mission
    .command('start <type>')
    .description(
      'start a mission of a catalog type with JSON input (as who you logged in as, through the approvals service)',
    )
    .requiredOption('--input <file|->', 'JSON input file, or - for stdin')
    .option('--provider <provider:model>', "reasoning provider instead of the definition's, e.g. openai:gpt-4o-mini")
    .option('--direct', 'operators: start straight through Temporal, signed with the break-glass key')
    .option('--as <initiator>', 'with --direct: who the mission is started for (default $MANDATE_USER or your login)')
    .action(
      async (type: string, opts: { input: string; as?: string; provider?: string; direct?: boolean }, cmd: Command) => {
        const input = readInput(opts.input);
        if (opts.direct)
          return void (await missionStart(await context(cmd), type, input, opts.as ?? defaultUser(), opts.provider));
        if (opts.as) {
          throw new Error(
            '--as applies only with --direct: through the approvals service you start missions as who you logged in as',
          );
        }
        await startThroughService(cmd, type, input, opts.provider);
      },
    );
  mission
    .command('list')
    .description('missions, newest first')
    .option('--status <status>', 'only missions in this status (running, awaiting_approval, completed, rejected, …)')
    .option('--limit <n>', 'at most n missions', (v) => parsePositive(v, '--limit'), 50)
    .action(async (opts: { status?: string; limit: number }, cmd: Command) => missionList(await context(cmd), opts));
  mission
    .command('show <missionId>')
    .description('status and the Explain rail (observations) of one mission')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await missionShow(await context(cmd), id);
    });

  registerApproverCommands(program);
  registerControlCommands(program, context, defaultUser);
  registerPolicyCommands(
    program,
    () => cliConfig().catalogDir,
    () => cliConfig().enterpriseDb,
  );
  const audit = registerAuditCommands(program);
  registerAuditTrustCommands(audit);
  registerAuditReportCommands(audit);
  registerWitnessCommand(program);
  registerCodecCommands(program);
  return program;
}

function parsePositive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // With --json, stdout carries exactly one JSON document, failures included.
    const json = argv.includes('--json');
    const error = err as Error & { reported?: boolean };
    const message = error.message.replace(/^(Error|error): /, '');
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'usage', message } })}\n`);
      return 2;
    }
    // A command that printed its own document (a failed verify lists its problems) needs no second one.
    if (json && !error.reported) process.stdout.write(`${JSON.stringify({ error: { code: error.name, message } })}\n`);
    process.stderr.write(`mandate: ${message}\n`);
    return 1;
  } finally {
    await closeTemporal();
  }
}

/**
 * Entry for bin/mandate.js: runs the program and exits with its code — once stdout and stderr have
 * flushed. Writes to a pipe are asynchronous, so exiting at once would cut large output (`--json | …`).
 */
export function run(): void {
  void main(process.argv).then(async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  });
}

/** Settles when everything written to the stream so far has been handed to the system. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) return resolve();
    // An empty write completes after every write queued before it.
    stream.write('', () => resolve());
  });
}

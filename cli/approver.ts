import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createLocalToken, readTokenFile, revokeLocalTokens, tokenId } from '../approvals-ui/local-tokens';
import type { QueueEntry } from '../approvals-ui/desk';
import type { MissionDetail } from '../client/missions';
import { formatAmount, relativeTime } from '../core/format';
import { approvalsList, missionShow, QUEUE_COLUMNS, voteCommand } from './commands';
import { cliConfig, temporalContext } from './context';
import type { GlobalOptions } from './context';
import { printJson, table } from './output';
import { railTable, verdictLine } from './rail';
import type { ApprovalsServiceClient } from './service-client';
import {
  ApprovalsServiceClient as ServiceClient,
  forgetCredentials,
  ServiceError,
  serviceFromConfig,
  storeCredentials,
} from './service-client';

/**
 * Approver commands. Through the approvals service by default (identity from `mandate login`, the
 * decision signed by the service); `--direct` is the operators' path straight to Temporal.
 */
type MissionView = MissionDetail & {
  actions: (QueueEntry & { refusal?: { code: string; message: string } })[];
  settled: { actionId: string; decision: string; approver: string; reason?: string; at: string; expired: boolean }[];
};

const say = (line: string) => process.stdout.write(`${line}\n`);
const isJson = (cmd: Command) => Boolean(cmd.optsWithGlobals<GlobalOptions>().json);

export function requireService(): ApprovalsServiceClient {
  const service = serviceFromConfig(cliConfig());
  if (!service) {
    throw new Error(
      'no approvals service configured: run `mandate login --url <service> --token <token>` or set MANDATE_APPROVALS_URL (operators: --direct, signed with the break-glass key)',
    );
  }
  return service;
}

/** `mission start` through the approvals service: the service signs the start for the signed-in person. */
export async function startThroughService(cmd: Command, missionType: string, input: unknown, provider?: string) {
  const service = requireService();
  const started = await service.post<{ missionId: string; missionType: string; initiator: string }>('/api/missions', {
    missionType,
    input,
    ...(provider ? { provider } : {}),
  });
  if (isJson(cmd)) return printJson(started);
  say(
    `started ${started.missionId} (${started.missionType}) for ${started.initiator}${provider ? ` with ${provider}` : ''}`,
  );
}

export function registerApproverCommands(program: Command): void {
  program
    .command('login')
    .description('store a token for the approvals service (checked against it first)')
    .option(
      '--url <url>',
      'approvals service (default $MANDATE_APPROVALS_URL or http://localhost:<MANDATE_APPROVALS_PORT>)',
    )
    .option('--token <token|->', 'a local token (mdt_…) or an OIDC token; - reads it from stdin')
    .action(async (opts: { url?: string; token?: string }, cmd: Command) => {
      const config = cliConfig();
      const url = opts.url ?? config.approvals.url ?? `http://localhost:${config.approvalsPort}`;
      const raw = opts.token === undefined || opts.token === '-' ? readFileSync(0, 'utf8') : opts.token;
      const token = raw.trim();
      if (!token) throw new Error('no token given: --token <token> or pipe it on stdin');
      const me = await new ServiceClient(url, token).get<{ subject: string; roles: string[] }>('/api/me');
      const path = storeCredentials(config.credentialsFile, { url, token });
      if (isJson(cmd)) return printJson({ ...me, url, stored: path });
      say(`signed in to ${url} as ${me.subject} (roles: ${me.roles.join(', ') || 'none'}); token stored in ${path}`);
    });

  program
    .command('logout')
    .description('forget the stored approvals service token')
    .action((_opts: unknown, cmd: Command) => {
      const removed = forgetCredentials(cliConfig().credentialsFile);
      if (isJson(cmd)) return printJson({ removed });
      say(removed ? 'signed out' : 'no stored token');
    });

  const tokens = program
    .command('token')
    .description('local tokens for the approvals service (the embedded default sign-in)');
  const fileOption = 'token file (default $MANDATE_APPROVALS_TOKENS_FILE or <data dir>/approvals-tokens.json)';
  const tokenFile = (file?: string) => {
    const config = cliConfig();
    return file ?? config.approvals.tokensFile ?? join(config.dataDir, 'approvals-tokens.json');
  };
  tokens
    .command('create')
    .description('add a token for a subject to the token file and print it once')
    .requiredOption('--subject <name>', 'who the token identifies, e.g. sam@example.com')
    .option('--roles <a,b>', 'comma-separated roles, e.g. supervisor', '')
    .option('--file <path>', fileOption)
    .action((opts: { subject: string; roles: string; file?: string }, cmd: Command) => {
      const file = tokenFile(opts.file);
      const roles = opts.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const token = createLocalToken(file, opts.subject, roles);
      if (isJson(cmd)) return printJson({ subject: opts.subject, roles, file, token });
      say(`token for ${opts.subject} (roles: ${roles.join(', ') || 'none'}) added to ${file}; it is shown only now:`);
      say(token);
    });
  tokens
    .command('list')
    .description('the tokens in the token file: id, subject and roles (never the tokens)')
    .option('--file <path>', fileOption)
    .action((opts: { file?: string }, cmd: Command) => {
      const entries = readTokenFile(tokenFile(opts.file)).tokens.map((t) => ({
        id: tokenId(t),
        subject: t.subject,
        roles: t.roles,
      }));
      if (isJson(cmd)) return printJson(entries);
      say(
        table(entries, [
          { header: 'id', value: (e) => e.id },
          { header: 'subject', value: (e) => e.subject },
          { header: 'roles', value: (e) => e.roles.join(',') },
        ]),
      );
    });
  tokens
    .command('revoke')
    .description("remove a subject's tokens or one token; sessions made with them end at their next request")
    .option('--subject <name>', 'every token of this subject (any spelling)')
    .option('--token-id <id>', 'the token with this id (from `mandate token list`)')
    .option('--file <path>', fileOption)
    .action((opts: { subject?: string; tokenId?: string; file?: string }, cmd: Command) => {
      if (Boolean(opts.subject) === Boolean(opts.tokenId))
        throw new Error('name exactly one of --subject or --token-id');
      const file = tokenFile(opts.file);
      const removed = revokeLocalTokens(file, { subject: opts.subject, tokenId: opts.tokenId });
      if (removed.length === 0) throw new Error(`no token matches ${opts.subject ?? opts.tokenId} in ${file}`);
      const revoked = removed.map((t) => ({ id: tokenId(t), subject: t.subject }));
      if (isJson(cmd)) return printJson({ file, revoked });
      for (const r of revoked) say(`revoked ${r.id} (${r.subject}) in ${file}`);
    });

  const approvals = program.command('approvals').description('the Decision Queue');
  approvals
    .command('list')
    .description('actions waiting for approval, soonest deadline first (through the service when configured)')
    .option('--all', 'with the service: include actions you may not decide')
    .option('--direct', 'operators: read straight from Temporal')
    .action(async (opts: { all?: boolean; direct?: boolean }, cmd: Command) => {
      const service = opts.direct ? undefined : serviceFromConfig(cliConfig());
      if (!service) return approvalsList(await temporalContext(cmd));
      const { items } = await service.get<{ items: QueueEntry[] }>(`/api/queue${opts.all ? '?all=1' : ''}`);
      if (isJson(cmd)) return printJson(items);
      say(
        table(items, [
          ...QUEUE_COLUMNS,
          ...(opts.all ? [{ header: 'you', value: (i: QueueEntry) => i.refusal?.code ?? 'may decide' }] : []),
        ]),
      );
    });
  approvals
    .command('show <missionId>')
    .description('a mission, its pending actions and the Explain rail')
    .option('--direct', 'operators: read straight from Temporal')
    .action(async (missionId: string, opts: { direct?: boolean }, cmd: Command) => {
      const service = opts.direct ? undefined : serviceFromConfig(cliConfig());
      if (!service) return void (await missionShow(await temporalContext(cmd), missionId));
      const view = await service.get<MissionView>(`/api/missions/${encodeURIComponent(missionId)}`);
      if (isJson(cmd)) return printJson(view);
      printMission(view);
    });

  const decideAction =
    (decision: 'approve' | 'reject') =>
    async (
      missionId: string,
      actionId: string,
      opts: { as?: string; role?: string; reason?: string; direct?: boolean; paramsHash?: string; yes?: boolean },
      cmd: Command,
    ) => {
      if (opts.direct) {
        if (!opts.as) throw new Error('--direct needs --as <approver>');
        const roles = (opts.role ?? '')
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        return voteCommand(await temporalContext(cmd), missionId, actionId, decision, opts.as, opts.reason, roles);
      }
      if (opts.as || opts.role) {
        throw new Error(
          '--as and --role apply only with --direct: through the approvals service you are who you logged in as',
        );
      }
      const service = requireService();
      const paramsHash =
        decision === 'approve' && !opts.paramsHash
          ? await confirmBinding(service, missionId, actionId, Boolean(opts.yes), isJson(cmd))
          : opts.paramsHash;
      const path = `/api/missions/${encodeURIComponent(missionId)}/actions/${encodeURIComponent(actionId)}/decision`;
      const { result } = await service.post<{
        result: {
          decision: string;
          approver: string;
          operation: string;
          at: string;
          keyId?: string;
          outcome?: string;
          approvals?: number;
          quorum?: number;
        };
      }>(path, { decision, reason: opts.reason, paramsHash });
      if (isJson(cmd)) return printJson({ missionId, actionId, ...result });
      say(
        `${decision === 'approve' ? 'approved' : 'rejected'} ${missionId} ${actionId} (${result.operation}) as ${result.approver}, recorded ${result.at}${result.keyId ? `, signed by key ${result.keyId}` : ''}${result.outcome === 'pending' ? `; ${result.approvals} of ${result.quorum} approvals, waiting for more` : ''}`,
      );
    };
  const directHelp = 'operators: decide straight through Temporal (identity from --as, not signed)';
  program
    .command('approve <missionId> <actionId>')
    .description('approve a pending action (through the approvals service)')
    .option('--reason <text>', 'why')
    .option(
      '--params-hash <sha256>',
      'the params you confirmed (from `approvals show --json`): refused if they changed',
    )
    .option('--yes', 'confirm the action as shown now, without asking (scripts)')
    .option('--direct', directHelp)
    .option('--as <approver>', 'with --direct: who approves')
    .option('--role <a,b>', 'with --direct: the role(s) the approver holds, comma-separated')
    .action(decideAction('approve'));
  program
    .command('reject <missionId> <actionId>')
    .description('reject a pending action (a reason is required)')
    .requiredOption('--reason <text>', 'why')
    .option('--params-hash <sha256>', 'refuse unless the action still has these params')
    .option('--direct', directHelp)
    .option('--as <approver>', 'with --direct: who rejects')
    .option('--role <a,b>', 'with --direct: the role(s) the approver holds, comma-separated')
    .action(decideAction('reject'));
}

/**
 * An approval is bound to the params the approver confirmed: the CLI shows the pending action and
 * asks (or takes --yes), and sends the params hash of exactly what it showed. Nothing is filled in
 * behind the approver's back; an action that changed since is refused by the service as `stale`.
 */
async function confirmBinding(
  service: ApprovalsServiceClient,
  missionId: string,
  actionId: string,
  yes: boolean,
  json: boolean,
): Promise<string | undefined> {
  const view = await service.get<MissionView>(`/api/missions/${encodeURIComponent(missionId)}`);
  const action = view.actions.find((a) => a.actionId === actionId);
  // Nothing pending under that id: the service says why (already decided, expired, unknown).
  if (!action) return undefined;
  const money = formatAmount(action.params);
  const what = `approve ${actionId}: ${action.operation} ${JSON.stringify(action.params)}${money ? ` (${money})` : ''}`;
  if (!yes) {
    if (!process.stdin.isTTY) {
      throw new ServiceError(
        'binding_required',
        `approving binds your vote to what you confirmed: add --yes to confirm "${what}", or --params-hash ${action.paramsHash}`,
        400,
      );
    }
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(`${what}\nparams hash ${action.paramsHash}\nApprove this? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new ServiceError('cancelled', 'not approved: nothing was sent', 400);
  } else if (!json) {
    process.stderr.write(`${what}\n`);
  }
  return action.paramsHash;
}

function printMission(view: MissionView): void {
  const { state } = view;
  say(`${state.missionId}  ${state.missionType}  status=${state.status}  initiator=${state.initiator}`);
  if (state.summary) say(verdictLine(state));
  for (const a of view.actions) {
    const step = `step ${a.step + 1}/${a.steps}`;
    say(
      `pending: ${a.actionId} ${a.operation} ${formatAmount(a.params)} tier=${a.tier} ${step} roles=${a.roles.join(',')} quorum=${a.quorum} deadline ${relativeTime(a.deadline)}`,
    );
    say(`  params ${JSON.stringify(a.params)}`);
    say(`  policy rules ${a.ruleIds.join(', ') || '—'} version ${a.policyVersion}; params hash ${a.paramsHash}`);
    for (const v of a.votes) say(`  vote: ${v.approver} ${v.decision}${v.breakGlass ? ' [break-glass]' : ''}`);
    say(
      a.refusal
        ? `  you may not decide: ${a.refusal.message}`
        : `  you may decide: mandate approve ${state.missionId} ${a.actionId}`,
    );
  }
  for (const d of view.settled) {
    say(
      `decided: ${d.actionId} ${d.expired ? 'expired (rejected, fail closed)' : `${d.decision} by ${d.approver}`}${d.reason && !d.expired ? ` — ${d.reason}` : ''}`,
    );
  }
  say('');
  say(railTable(view.observations));
}

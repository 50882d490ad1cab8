import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLocalToken } from '../../../approvals-ui/local-tokens';
import { createApprovalsService } from '../../../approvals-ui/server';
import type { ApprovalsServiceOptions } from '../../../approvals-ui/server';
import { openStore } from '../../../approvals-ui/store';
import type { ApprovalsStore } from '../../../approvals-ui/store';
import type { DefinitionOverrides } from '../../../catalog/catalog';
import type { TestContext } from '../../harness/context';
import { catalog } from '../helpers';
import { testKeys } from '../../support/trust';

/** People of the suites: a supervisor, a second supervisor who starts missions, two in finance, an operator. */
export const PEOPLE = {
  sam: { subject: 'sam.supervisor@example.com', roles: ['supervisor'] },
  ivy: { subject: 'ivy.initiator@example.com', roles: ['supervisor'] },
  fin: { subject: 'fin.finance@example.com', roles: ['finance'] },
  fay: { subject: 'fay.finance@example.com', roles: ['finance'] },
  ops: { subject: 'ola.operator@example.com', roles: ['operator'] },
  /** Both steps of the finance ladder: may vote in step 1, and again once it escalates to step 2. */
  dora: { subject: 'dora.director@example.com', roles: ['finance', 'finance-director'] },
  /** Reads nothing: no role that decides, not an auditor. */
  vic: { subject: 'vic.viewer@example.com', roles: ['viewer'] },
  /** Reads every mission, decides none. */
  aud: { subject: 'aud.auditor@example.com', roles: ['auditor'] },
} as const;
export type Person = keyof typeof PEOPLE;

export interface RunningService {
  url: string;
  app: FastifyInstance;
  tokens: Record<Person, string>;
  tokensFile: string;
  /** The service's signing key: the test run's approvals key, which the harness's workers trust. */
  keys: typeof testKeys.approvals;
  /** Its sessions, counters and recent decisions (a SQLite file of its own unless one was passed in). */
  store: ApprovalsStore;
  close(): Promise<void>;
}

/**
 * Starts the approvals service on 127.0.0.1 (a free port) over the context's client. Instances
 * given the same `store` and `tokensFile` act as one service behind a load balancer.
 */
export async function startService(
  t: TestContext,
  options: Partial<ApprovalsServiceOptions> & { tokens?: Record<Person, string> } = {},
  host = '127.0.0.1',
  port = 0,
): Promise<RunningService> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-approvals-'));
  const tokensFile = options.tokensFile ?? join(dir, 'tokens.json');
  const tokens =
    options.tokens ??
    (Object.fromEntries(
      Object.entries(PEOPLE).map(([name, p]) => [name, createLocalToken(tokensFile, p.subject, [...p.roles])]),
    ) as Record<Person, string>);
  const ownStore = !options.store;
  const store = options.store ?? (await openStore(`sqlite:${join(dir, 'approvals.db')}`));
  const keys = testKeys.approvals;
  const app = createApprovalsService({
    client: t.client,
    taskQueue: t.taskQueue,
    catalog,
    tokensFile,
    signingKeyPem: keys.privateKeyPem,
    ...options,
    store,
  });
  await app.listen({ host, port });
  const bound = (app.server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    app,
    tokens,
    tokensFile,
    keys,
    store,
    close: async () => {
      await app.close();
      if (ownStore) await store.close();
    },
  };
}

/** Overrides where each tier's ladder is its first step only, timing out after `seconds` (then rejected, fail closed). */
export function quickTimeout(seconds: number): DefinitionOverrides {
  const approval = catalog.get('customer-refund').definition.approval as {
    ladders?: Record<string, { timeoutSeconds: number }[]>;
  };
  const ladders = Object.fromEntries(
    Object.entries(approval.ladders ?? {}).map(([tier, steps]) => [tier, [{ ...steps[0], timeoutSeconds: seconds }]]),
  );
  return {
    'customer-refund': { approval: { ...approval, timeoutSeconds: seconds, ladders } },
  } as unknown as DefinitionOverrides;
}

/** Overrides where the finance ladder's first step escalates after `seconds` to its second (finance-director). */
export function quickEscalation(seconds: number): DefinitionOverrides {
  const approval = catalog.get('customer-refund').definition.approval as {
    ladders: Record<string, { timeoutSeconds: number }[]>;
  };
  const finance = approval.ladders.finance.map((step, i) => (i === 0 ? { ...step, timeoutSeconds: seconds } : step));
  return {
    'customer-refund': { approval: { ...approval, ladders: { ...approval.ladders, finance } } },
  } as unknown as DefinitionOverrides;
}

/** The params hash of a pending action as the service shows it: what an approver confirms. */
export async function shownHash(service: RunningService, token: string, missionId: string, actionId = 'a1') {
  const { status, body } = await api(service, `/api/missions/${missionId}`, { token });
  if (status !== 200) throw new Error(`GET /api/missions/${missionId}: ${status} ${JSON.stringify(body)}`);
  const action = (body.actions as { actionId: string; paramsHash: string }[]).find((a) => a.actionId === actionId);
  if (!action) throw new Error(`${missionId} has no pending ${actionId}`);
  return action.paramsHash;
}

/** Approves through the API, bound to the params hash the approver was shown. */
export async function approveAsShown(
  service: RunningService,
  token: string,
  missionId: string,
  extra: Record<string, unknown> = {},
) {
  const paramsHash = await shownHash(service, token, missionId);
  return api(service, `/api/missions/${missionId}/actions/a1/decision`, {
    token,
    body: { decision: 'approve', paramsHash, ...extra },
  });
}

/** JSON API call with a bearer token. */
export async function api(
  service: RunningService,
  path: string,
  options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls the queue (visibility is eventually consistent) until the mission's presence matches. */
export async function waitForQueue(
  service: RunningService,
  token: string,
  missionId: string,
  present = true,
  all = false,
): Promise<Record<string, unknown>[]> {
  for (let i = 0; ; i++) {
    const { body } = await api(service, `/api/queue${all ? '?all=1' : ''}`, { token });
    const items = (body.items ?? []) as Record<string, unknown>[];
    if (items.some((item) => item.missionId === missionId) === present) return items;
    if (i > 150) throw new Error(`queue never ${present ? 'showed' : 'dropped'} ${missionId}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Terminates the suite's missions still running, so namespace-wide listings elsewhere never wait on them. */
export async function terminateLeftovers(t: TestContext | undefined): Promise<void> {
  if (!t) return;
  const query = `TaskQueue = '${t.taskQueue}' AND ExecutionStatus = 'Running'`;
  for await (const execution of t.client.workflow.list({ query })) {
    await t.client.workflow
      .getHandle(execution.workflowId)
      .terminate('test suite finished')
      .catch(() => undefined);
  }
}

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Catalog, DEFAULT_CATALOG_DIR } from '../../catalog/catalog';
import { startMission } from '../../client/missions';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { FakeLlmServer, wire } from '../support/fake-llm-server';
import { runCli } from '../support/run-cli';
import { observations, result } from './helpers';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { approvalsSigner, operatorKeyPath } from '../support/trust';

/**
 * Missions reasoning through the official OpenAI and Ollama SDKs, against a local server speaking
 * their wire formats: routing by data class, failover, validation retries, redaction and budgets.
 */
const CHAT = 'POST /v1/chat/completions';
const OLLAMA = 'POST /api/chat';
let fake: FakeLlmServer;

beforeEach(async () => {
  fake = await FakeLlmServer.start();
});
afterEach(async () => {
  await fake.close();
});

/** The refund walk of CASE-1001, as a model would reply, step by step. */
const steps = [
  {
    observations: ['Reading the case.'],
    next: { kind: 'read', operation: 'cases.get', params: { caseId: 'CASE-1001' }, as: 'case' },
  },
  {
    observations: ['Reading the order.'],
    next: { kind: 'read', operation: 'orders.get', params: { orderId: 'ORD-5001' }, as: 'order' },
  },
  {
    observations: ['Checking prior refunds.'],
    next: { kind: 'read', operation: 'refunds.listForOrder', params: { orderId: 'ORD-5001' }, as: 'priorRefunds' },
  },
  {
    observations: ['Eligible.'],
    next: {
      kind: 'propose',
      operation: 'refunds.issue',
      params: {
        orderId: 'ORD-5001',
        caseId: 'CASE-1001',
        amountCents: 4599,
        currency: 'USD',
        reason: 'Kettle arrived broken',
      },
      rationale: 'open case, recent order, no prior refund',
    },
  },
  { observations: ['Done.'], next: { kind: 'finish', verdict: 'completed', summary: 'Refund issued.' } },
];
/** OpenAI strict mode carries params as a JSON string. */
const openaiReply = (step: (typeof steps)[number]) =>
  wire.openaiChat(
    JSON.stringify({
      ...step,
      next: 'params' in step.next ? { ...step.next, params: JSON.stringify(step.next.params) } : step.next,
    }),
  );

async function run(t: TestContext, provider?: string, initiator = 'dana') {
  const id = await startMission(t.client, {
    catalog: Catalog.load(),
    taskQueue: t.taskQueue,
    missionType: 'customer-refund',
    input: { caseId: 'CASE-1001' },
    initiator,
    ...(provider ? { provider } : {}),
    signer: approvalsSigner,
  });
  return id;
}

function catalogWith(change: (definition: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  cpSync(DEFAULT_CATALOG_DIR, dir, { recursive: true });
  const path = join(dir, 'customer-refund', 'definition.json');
  const definition = JSON.parse(readFileSync(path, 'utf8'));
  change(definition);
  writeFileSync(path, JSON.stringify(definition));
  return dir;
}

describe('reasoning through provider SDKs', () => {
  // A fresh database and task queue per test: each one refunds CASE-1001.
  let t: TestContext;
  beforeEach(async () => {
    t = await createTestContext('providers');
  });
  afterEach(async () => t?.close());

  test('a mission started with --provider openai:gpt-4o-mini reasons through the SDK; an invalid reply is re-asked with feedback', async () => {
    const env = {
      OPENAI_API_KEY: 'sk-test-not-a-secret',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      MANDATE_BOUNDARY_INSIDE: 'openai,ollama',
    };
    await t.startWorker({ env });
    fake.enqueue(CHAT, { body: openaiReply(steps[0]) }, { body: openaiReply(steps[1]) });
    fake.enqueue(CHAT, { body: wire.openaiChat(JSON.stringify({ observations: [], next: { kind: 'teleport' } })) });
    fake.enqueue(CHAT, ...steps.slice(2).map((s) => ({ body: openaiReply(s) })));
    const id = await run(t, 'openai:gpt-4o-mini');
    await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
    fake.assertDrained();
    expect(t.query('SELECT * FROM refunds WHERE mission_id = ?', id)).toHaveLength(1);

    const requests = fake.requestsTo(CHAT);
    expect(requests[0].headers.authorization).toBe('Bearer sk-test-not-a-secret');
    expect(JSON.stringify(requests[0].body)).not.toContain('sk-test-not-a-secret');
    // The re-ask after the invalid reply carries the validation error as feedback.
    expect(JSON.stringify(requests[3].body)).toMatch(/previous reply was rejected by validation/);
    const obs = await observations(t.client, id);
    const reasoning = obs.filter((o) => o.kind === 'reasoning');
    expect(reasoning[0].detail).toMatchObject({
      provider: 'openai:gpt-4o-mini',
      usage: { inputTokens: 11, outputTokens: 7 },
    });
    expect(reasoning[2].detail).toMatchObject({ invalidReplies: 1 });
    const description = await t.client.workflow.getHandle(id).describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tokens)).toBe(6 * 18);
  });

  test('a provider outside the boundary never sees confidential data: the mission fails visibly, nothing is sent', async () => {
    await t.startWorker({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${fake.url}/v1` } });
    const id = await run(t, 'openai:gpt-4o-mini');
    const failure = await result(t.client, id).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as Error).message).toMatch(
      /no reasoning provider may see this mission's confidential data \(openai:gpt-4o-mini: confidential data stays inside the deployment boundary/,
    );
    expect(fake.requests).toHaveLength(0);
  });

  test('when the provider is down, the failover provider answers', async () => {
    const catalogDir = catalogWith((d) => {
      (d.reasoning as Record<string, unknown>).provider = 'openai:gpt-4o-mini';
      (d.reasoning as Record<string, unknown>).failover = ['ollama:llama3.2'];
    });
    const env = {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OLLAMA_HOST: fake.url,
      MANDATE_BOUNDARY_INSIDE: 'openai,ollama',
    };
    await t.startWorker({ env, catalogDir });
    fake.enqueue(CHAT, ...steps.map(() => ({ status: 503, body: wire.openaiError('overloaded', 'server_error') })));
    fake.enqueue(OLLAMA, ...steps.map((s) => ({ body: wire.ollamaChat(JSON.stringify(s)) })));
    const id = await run(t);
    await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
    const first = (await observations(t.client, id)).find((o) => o.kind === 'reasoning');
    expect(first?.detail).toMatchObject({
      provider: 'ollama:llama3.2',
      failovers: [{ provider: 'openai:gpt-4o-mini' }],
    });
    fake.assertDrained();
  });

  test('a token budget ends the mission over_budget before anything executes', async () => {
    const catalogDir = catalogWith((d) => {
      (d.reasoning as Record<string, unknown>).budget = { maxTokens: 30 };
    });
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${fake.url}/v1`, MANDATE_BOUNDARY_INSIDE: 'openai' };
    await t.startWorker({ env, catalogDir });
    fake.enqueue(CHAT, { body: openaiReply(steps[0]) }, { body: openaiReply(steps[1]) });
    const id = await run(t, 'openai:gpt-4o-mini');
    await expect(result(t.client, id)).resolves.toMatchObject({
      verdict: 'over_budget',
      summary: 'token budget of 30 exceeded (36 used)',
      executedActions: [],
    });
    fake.assertDrained();
  });

  test('internal data sent outside the boundary is redacted; the rail records counts, never values', async () => {
    const catalogDir = catalogWith((d) => {
      d.dataClass = 'internal';
    });
    await t.startWorker({
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${fake.url}/v1` },
      catalogDir,
    });
    fake.enqueue(CHAT, ...steps.map((s) => ({ body: openaiReply(s) })));
    const id = await run(t, 'openai:gpt-4o-mini');
    await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });
    const sent = fake
      .requestsTo(CHAT)
      .map((r) => r.rawBody)
      .join('\n');
    expect(sent).not.toContain('jane.doe@example.com');
    expect(sent).toMatch(/\[EMAIL_[0-9A-Z]{8}\]/);
    const obs = await observations(t.client, id);
    const redacted = obs.filter((o) => o.kind === 'reasoning' && o.detail?.redactions);
    expect(redacted.length).toBeGreaterThan(0);
    // The customer's declared email and the same address spelled out in the case description.
    expect(redacted[0].detail).toMatchObject({ redactions: { email: 2 } });
    expect(JSON.stringify(obs.filter((o) => o.kind === 'reasoning'))).not.toContain('jane.doe@example.com');
  });

  /** Runs the real `mandate` binary against this test's server and task queue. */
  const mandate = (...args: string[]) =>
    runCli(
      {
        MANDATE_TEMPORAL_ADDRESS: t.address,
        MANDATE_TASK_QUEUE: t.taskQueue,
        MANDATE_OPERATOR_KEY: operatorKeyPath(),
        MANDATE_APPROVALS_URL: '',
        MANDATE_APPROVALS_TOKEN: '',
      },
      args,
    );

  test('mandate mission start --provider openai:… works against a compatible server, and fails at once without a key', async () => {
    const input = join(t.dbPath, '..', 'input.json');
    writeFileSync(input, JSON.stringify({ caseId: 'CASE-1001' }));
    const base = { OPENAI_BASE_URL: `${fake.url}/v1`, MANDATE_BOUNDARY_INSIDE: 'openai' };

    const keyless = await t.startWorker({ env: base });
    const refused = await mandate(
      'mission',
      'start',
      'customer-refund',
      '--direct',
      '--input',
      input,
      '--provider',
      'openai:gpt-4o-mini',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/failed at once: openai:gpt-4o-mini needs OPENAI_API_KEY/);
    expect(fake.requests).toHaveLength(0);
    await keyless.stop();

    await t.startWorker({ env: { ...base, OPENAI_API_KEY: 'sk-test' } });
    fake.enqueue(CHAT, ...steps.map((s) => ({ body: openaiReply(s) })));
    const started = await mandate(
      'mission',
      'start',
      'customer-refund',
      '--direct',
      '--input',
      input,
      '--provider',
      'openai:gpt-4o-mini',
      '--json',
    );
    expect(started.code).toBe(0);
    const { missionId, provider } = JSON.parse(started.stdout);
    expect(provider).toBe('openai:gpt-4o-mini');
    await expect(result(t.client, missionId)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
    fake.assertDrained();
  });
});

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, DEFAULT_CATALOG_DIR } from '../../catalog/catalog';
import { startMission } from '../../client/missions';
import { DATA_CLOSE, DATA_OPEN } from '../../reasoning/prompt';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { FakeLlmServer, wire } from '../support/fake-llm-server';
import type { RecordedRequest } from '../support/fake-llm-server';
import { observations, result } from './helpers';
import { approvalsSigner } from '../support/trust';

/**
 * Personal data and a provider outside the deployment boundary (OpenAI's SDK against the local wire-format
 * server, `openai` not in MANDATE_BOUNDARY_INSIDE): the server records every request; none holds a name,
 * email, phone, address or card number of the sample data; the model acts on pseudonyms, which the worker
 * maps back, so the refund still completes with the real values.
 */
const CHAT = 'POST /v1/chat/completions';
let fake: FakeLlmServer;
let t: TestContext;

beforeAll(async () => {
  fake = await FakeLlmServer.start();
  t = await createTestContext('personal-data');
  // The sample refund mission is confidential; as internal data it may go outside the boundary, pseudonymised.
  const catalogDir = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  cpSync(DEFAULT_CATALOG_DIR, catalogDir, { recursive: true });
  const path = join(catalogDir, 'customer-refund', 'definition.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), dataClass: 'internal' }));
  await t.startWorker({ env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${fake.url}/v1` }, catalogDir });
  catalog = Catalog.load(catalogDir);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
let catalog: Catalog;

/** What the model was shown: the JSON data block of the request's user message. */
function shown(request: RecordedRequest): { context: Record<string, Record<string, unknown>> } {
  const body = request.body as { messages: { role: string; content: string }[] };
  const user = body.messages.find((m) => m.role === 'user')!.content;
  return JSON.parse(user.slice(user.indexOf(DATA_OPEN) + DATA_OPEN.length, user.indexOf(DATA_CLOSE)));
}

/** OpenAI strict mode carries params as a JSON string. */
const say = (step: { observations: string[]; next: Record<string, unknown> }) =>
  wire.openaiChat(
    JSON.stringify({
      ...step,
      next: 'params' in step.next ? { ...step.next, params: JSON.stringify(step.next.params) } : step.next,
    }),
  );

const readStep = (operation: string, params: object, as: string) => ({
  body: say({ observations: [`Reading ${as}.`], next: { kind: 'read', operation, params, as } }),
});

/** The refund walk of a case, the proposal written from what the model saw (pseudonyms and all). */
function refundWalk(
  caseNo: number,
  orderNo: number,
  amountCents: number,
  reason: (customer: Record<string, string>) => string,
  finishes = true,
) {
  fake.enqueue(
    CHAT,
    readStep('cases.get', { caseId: `CASE-${caseNo}` }, 'case'),
    readStep('orders.get', { orderId: `ORD-${orderNo}` }, 'order'),
    readStep('refunds.listForOrder', { orderId: `ORD-${orderNo}` }, 'priorRefunds'),
    {
      reply: (request) => {
        const customer = shown(request).context.case.customer as Record<string, string>;
        return say({
          observations: [`${customer.name} is owed a refund.`],
          next: {
            kind: 'propose',
            operation: 'refunds.issue',
            params: {
              orderId: `ORD-${orderNo}`,
              caseId: `CASE-${caseNo}`,
              amountCents,
              currency: 'USD',
              reason: reason(customer),
            },
            rationale: `Open case of ${customer.name}, recent order, no prior refund.`,
          },
        });
      },
    },
  );
  if (finishes) {
    fake.enqueue(CHAT, {
      body: say({ observations: ['Done.'], next: { kind: 'finish', verdict: 'completed', summary: 'Refund issued.' } }),
    });
  }
}

const start = (caseId: string) =>
  startMission(t.client, {
    catalog,
    taskQueue: t.taskQueue,
    missionType: 'customer-refund',
    input: { caseId },
    initiator: 'dana',
    provider: 'openai:gpt-4o-mini',
    signer: approvalsSigner,
  });

test('no personal value of the sample data reaches the provider; the refund completes with the values mapped back', async () => {
  refundWalk(1001, 5001, 4599, (c) => `Kettle arrived broken; refund for ${c.name}, confirmation to ${c.email}`);
  const id = await start('CASE-1001');
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  fake.assertDrained();

  // Every value the sample systems hold about this customer, in every spelling they use.
  const [person] = t.query<Record<string, string>>(
    `SELECT cu.name, cu.email, cu.phone, cu.address, p.card_number, c.description FROM cases c
       JOIN customers cu ON cu.customer_id = c.customer_id JOIN payments p ON p.order_id = c.order_id
      WHERE c.case_id = 'CASE-1001'`,
  );
  const secrets = [
    person.name,
    ...person.name.split(' '),
    person.email,
    person.phone,
    person.phone.replace(/\D/g, '').slice(1),
    person.address,
    ...person.address.split(', '),
    person.card_number,
    person.card_number.replace(/\D/g, ''),
    'jane dot doe at example dot com',
  ];
  const sent = fake.requestsTo(CHAT);
  expect(sent).toHaveLength(5);
  for (const request of sent)
    for (const secret of secrets)
      expect({ secret, sent: request.rawBody.includes(secret) }).toEqual({ secret, sent: false });

  // The model saw consistent pseudonyms: the declared name is the one in the customer's own words.
  const context = shown(sent[3]).context;
  const customer = context.case.customer as Record<string, string>;
  expect(customer).toMatchObject({
    name: expect.stringMatching(/^\[NAME_[0-9A-Z]{8}\]$/),
    email: expect.stringMatching(/^\[EMAIL_/),
    phone: expect.stringMatching(/^\[PHONE_/),
    address: expect.stringMatching(/^\[ADDRESS_/),
  });
  expect(context.case.description).toBe(
    `Hi, ${customer.name} here. The kettle arrived broken. Call me on ${customer.phone} or write to ${customer.email}.`,
  );
  expect((context.order.payments as Record<string, string>[])[0].card_number).toMatch(/^\[CARD_/);

  // The refund carries the real values: mapped back in the worker before validation, policy and the grant.
  const [refund] = t.query<{ reason: string }>('SELECT reason FROM refunds WHERE mission_id = ?', id);
  expect(refund.reason).toBe(`Kettle arrived broken; refund for ${person.name}, confirmation to ${person.email}`);
  const obs = await observations(t.client, id);
  const proposal = obs.find((o) => o.kind === 'proposal')!;
  expect(proposal.summary).toBe('proposes a1: refunds.issue (pseudonyms mapped back in params.reason, rationale)');
  expect(proposal.detail).toMatchObject({
    params: { reason: refund.reason },
    rationale: `Open case of ${person.name}, recent order, no prior refund.`,
    reidentified: [
      { field: 'params.reason', kinds: ['name', 'email'] },
      { field: 'rationale', kinds: ['name'] },
    ],
  });
  expect(obs.find((o) => o.kind === 'decision')?.detail).toMatchObject({ outcome: 'allow' });
  // History records how many values of which kinds were pseudonymised, never which.
  const reasoning = obs.filter((o) => o.kind === 'reasoning');
  expect(reasoning[1].detail?.redactions).toMatchObject({ name: 2, email: 2, phone: 2, address: 1 });
  expect(reasoning[2].detail?.redactions).toMatchObject({ card: 1 });
  for (const o of reasoning) for (const n of Object.values(o.detail?.redactions ?? {})) expect(typeof n).toBe('number');
});

test('a pseudonym the mission never issued is refused: the action is denied and nothing executes', async () => {
  refundWalk(1008, 5008, 25000, () => 'refund for [NAME_K3J9QX2A] and [EMAIL_1]', false);
  fake.requests.length = 0;
  const id = await start('CASE-1008');
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'denied', executedActions: [] });
  fake.assertDrained();
  const decision = (await observations(t.client, id)).find((o) => o.kind === 'decision');
  expect(decision?.detail).toMatchObject({
    outcome: 'deny',
    errors: ['unknown_pseudonym'],
    reasons: ['params name pseudonyms this mission never issued: [NAME_K3J9QX2A], [EMAIL_1]'],
  });
  expect(t.query('SELECT * FROM refunds WHERE mission_id = ?', id)).toHaveLength(0);
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApprovalNotice } from '../../../activities/notify';
import { webhookNotifier } from '../../../activities/notify';

const notice: ApprovalNotice = {
  missionId: 'customer-refund-1',
  missionType: 'customer-refund',
  escalated: true,
  pending: {
    actionId: 'a1',
    operation: 'refunds.issue',
    params: { amountCents: 45000, secretNote: 'not for the webhook' },
    paramsHash: 'h',
    policyVersion: 'v',
    tier: 'supervisor',
    requestedAt: '2026-01-01T00:00:00.000Z',
    step: 1,
    steps: 2,
    roles: ['support-manager'],
    quorum: 1,
    deadline: '2026-01-01T04:00:00.000Z',
    votes: [],
  },
};

async function server(status: number) {
  const received: unknown[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

test('the webhook receives the step, its roles and deadline — not the params', async () => {
  const s = await server(204);
  await webhookNotifier(s.url).notify(notice);
  await s.close();
  expect(s.received).toEqual([
    {
      event: 'approval.escalated',
      missionId: 'customer-refund-1',
      missionType: 'customer-refund',
      actionId: 'a1',
      operation: 'refunds.issue',
      tier: 'supervisor',
      step: 2,
      steps: 2,
      roles: ['support-manager'],
      quorum: 1,
      deadline: '2026-01-01T04:00:00.000Z',
    },
  ]);
});

test('a webhook answering an error fails the notice (the activity retries it)', async () => {
  const s = await server(503);
  await expect(webhookNotifier(s.url).notify(notice)).rejects.toThrow(/HTTP 503/);
  await s.close();
});

import { ZodError } from 'zod';
import { Playbook, PlaybookError, holds, lookup, playStep, render } from '../../../core/playbook';
import type { Condition } from '../../../core/playbook';

const context = {
  input: { caseId: 'CASE-1001', note: 'urgent' },
  case: { caseId: 'CASE-1001', orderId: 'ORD-5001', status: 'open', requestedRefundCents: 4599, closed: false },
  order: { orderId: 'ORD-5001', totalCents: 4599, ageDays: 10, currency: 'USD', note: null },
  priorRefunds: { count: 1, items: [{ id: 'RF-1', amountCents: 100 }] },
};

describe('lookup', () => {
  it('resolves top-level, nested and array-index paths', () => {
    expect(lookup(context, 'input')).toEqual({ caseId: 'CASE-1001', note: 'urgent' });
    expect(lookup(context, 'case.orderId')).toBe('ORD-5001');
    expect(lookup(context, 'priorRefunds.items.0.id')).toBe('RF-1');
    expect(lookup(context, 'priorRefunds.items.length')).toBe(1);
  });

  it('returns falsy values that are present (null, false, 0)', () => {
    expect(lookup(context, 'order.note')).toBeNull();
    expect(lookup(context, 'case.closed')).toBe(false);
    expect(lookup({ a: { b: 0 } }, 'a.b')).toBe(0);
  });

  it.each(['missing', 'case.missing', 'priorRefunds.items.5.id', 'case.orderId.length', 'order.note.x', ''])(
    'throws a PlaybookError naming the path %j when the context does not hold it',
    (path) => {
      expect(() => lookup(context, path)).toThrow(PlaybookError);
      expect(() => lookup(context, path)).toThrow(
        `playbook refers to ${path}, which the mission context does not hold`,
      );
    },
  );

  it.each(['input.constructor', 'case.toString', 'priorRefunds.__proto__', 'order.hasOwnProperty'])(
    'does not resolve %s through the prototype chain',
    (path) => {
      expect(() => lookup(context, path)).toThrow(PlaybookError);
    },
  );
});

describe('render', () => {
  it('keeps the type of a string that is exactly one template', () => {
    expect(render('{{case.requestedRefundCents}}', context)).toBe(4599);
    expect(render('{{ case.closed }}', context)).toBe(false);
    expect(render('{{order.note}}', context)).toBeNull();
    expect(render('{{priorRefunds.items}}', context)).toEqual([{ id: 'RF-1', amountCents: 100 }]);
  });

  it('interpolates templates inside a longer string as text', () => {
    expect(render('Order {{order.orderId}} is {{ order.ageDays }} days old', context)).toBe(
      'Order ORD-5001 is 10 days old',
    );
    expect(render('{{case.caseId}}/{{order.orderId}}', context)).toBe('CASE-1001/ORD-5001');
    expect(render(' {{case.requestedRefundCents}}', context)).toBe(' 4599');
  });

  it('renders nested arrays and objects and leaves non-template values alone', () => {
    const rendered = render(
      {
        kind: 'propose',
        params: { amountCents: '{{case.requestedRefundCents}}', ids: ['{{case.caseId}}', 'x {{order.currency}}'] },
        deep: [[{ n: '{{order.ageDays}}' }]],
        literal: 7,
        flag: true,
        none: null,
        plain: 'no templates here',
      },
      context,
    );
    expect(rendered).toEqual({
      kind: 'propose',
      params: { amountCents: 4599, ids: ['CASE-1001', 'x USD'] },
      deep: [[{ n: 10 }]],
      literal: 7,
      flag: true,
      none: null,
      plain: 'no templates here',
    });
  });

  it('does not modify its input', () => {
    const template = { a: ['{{order.ageDays}}'] };
    render(template, context);
    expect(template).toEqual({ a: ['{{order.ageDays}}'] });
  });

  it('throws a PlaybookError naming the missing path, in whole and partial templates and deep inside', () => {
    expect(() => render('{{order.missing}}', context)).toThrow('playbook refers to order.missing');
    expect(() => render('Refund {{lastAction.result.refundId}} issued', context)).toThrow(
      new PlaybookError('playbook refers to lastAction.result.refundId, which the mission context does not hold'),
    );
    expect(() => render({ a: [{ b: '{{nope.x}}' }] }, context)).toThrow(PlaybookError);
  });
});

describe('holds', () => {
  const cond = (path: string, op: Condition['op'], value: Condition['value']): Condition => ({ path, op, value });

  it.each<[Condition['op'], number, boolean]>([
    ['gt', 9, true],
    ['gt', 10, false],
    ['gte', 10, true],
    ['gte', 11, false],
    ['lt', 11, true],
    ['lt', 10, false],
    ['lte', 10, true],
    ['lte', 9, false],
    ['eq', 10, true],
    ['eq', 11, false],
    ['ne', 11, true],
    ['ne', 10, false],
  ])('order.ageDays (10) %s %d is %s', (op, value, expected) => {
    expect(holds(cond('order.ageDays', op, value), context)).toBe(expected);
  });

  it('compares strings, booleans and null strictly with eq/ne', () => {
    expect(holds(cond('case.status', 'eq', 'open'), context)).toBe(true);
    expect(holds(cond('case.status', 'ne', 'open'), context)).toBe(false);
    expect(holds(cond('case.closed', 'eq', false), context)).toBe(true);
    expect(holds(cond('order.note', 'eq', null), context)).toBe(true);
    // Strict: the number 10 is not the string "10".
    expect(holds(cond('order.ageDays', 'eq', '10'), context)).toBe(false);
  });

  it('renders a template on the right side, keeping its type', () => {
    expect(holds(cond('case.requestedRefundCents', 'gt', '{{order.totalCents}}'), context)).toBe(false);
    expect(holds(cond('case.requestedRefundCents', 'gte', '{{order.totalCents}}'), context)).toBe(true);
    expect(holds(cond('case.requestedRefundCents', 'eq', '{{order.totalCents}}'), context)).toBe(true);
    expect(holds(cond('case.orderId', 'eq', '{{order.orderId}}'), context)).toBe(true);
    expect(holds(cond('case.orderId', 'eq', 'ORD-{{order.ageDays}}'), context)).toBe(false);
  });

  it('throws a PlaybookError when an ordering comparison is given non-numbers', () => {
    expect(() => holds(cond('case.status', 'gt', 1), context)).toThrow(
      new PlaybookError('condition case.status gt needs numbers'),
    );
    expect(() => holds(cond('order.ageDays', 'lte', '90'), context)).toThrow(
      'condition order.ageDays lte needs numbers',
    );
    expect(() => holds(cond('order.ageDays', 'lt', '{{case.status}}'), context)).toThrow(PlaybookError);
    expect(() => holds(cond('order.note', 'gte', null), context)).toThrow(PlaybookError);
  });

  it('throws a PlaybookError naming a missing path on either side', () => {
    expect(() => holds(cond('order.refunds', 'eq', 1), context)).toThrow('playbook refers to order.refunds');
    expect(() => holds(cond('order.ageDays', 'eq', '{{order.limit}}'), context)).toThrow(
      'playbook refers to order.limit',
    );
  });
});

describe('playStep', () => {
  const finish = (summary: string) => ({ kind: 'finish', verdict: 'declined', summary });
  const playbook = Playbook.parse({
    steps: [
      {
        observations: ['Reading case {{input.caseId}}.'],
        next: { kind: 'read', operation: 'cases.get', params: { caseId: '{{input.caseId}}' }, as: 'case' },
      },
      {
        observations: ['Order {{order.orderId}} is {{order.ageDays}} days old.'],
        checks: [
          { when: { path: 'case.status', op: 'ne', value: 'open' }, observation: 'closed', finish: finish('closed') },
          {
            when: { path: 'order.ageDays', op: 'gt', value: 5 },
            observation: 'Order {{order.orderId}} is too old.',
            finish: finish('No refund: {{order.orderId}} is {{order.ageDays}} days old.'),
          },
          {
            when: { path: 'priorRefunds.count', op: 'gt', value: 0 },
            observation: 'already refunded',
            finish: finish('already refunded'),
          },
        ],
        next: {
          kind: 'propose',
          operation: 'refunds.issue',
          params: { orderId: '{{order.orderId}}', amountCents: '{{case.requestedRefundCents}}' },
          rationale: 'Case {{case.caseId}} qualifies.',
        },
      },
      { next: { kind: 'finish', verdict: 'completed', summary: 'done' } },
    ],
  });

  it('renders the observations and the next step when there are no checks', () => {
    expect(playStep(playbook, 0, context)).toEqual({
      observations: ['Reading case CASE-1001.'],
      next: { kind: 'read', operation: 'cases.get', params: { caseId: 'CASE-1001' }, as: 'case' },
    });
  });

  it('defaults missing observations to none', () => {
    expect(playStep(playbook, 2, context)).toEqual({
      observations: [],
      next: { kind: 'finish', verdict: 'completed', summary: 'done' },
    });
  });

  it('finishes with the first check that holds, in order, not a later one', () => {
    // ageDays 10 > 5 holds, and priorRefunds.count 1 > 0 holds too: the earlier check wins.
    expect(playStep(playbook, 1, context)).toEqual({
      observations: ['Order ORD-5001 is too old.'],
      next: { kind: 'finish', verdict: 'declined', summary: 'No refund: ORD-5001 is 10 days old.' },
    });
    const young = { ...context, order: { ...context.order, ageDays: 2 } };
    expect(playStep(playbook, 1, young).next).toEqual(finish('already refunded'));
  });

  it('falls through to next when no check holds, keeping whole-template types in params', () => {
    const fresh = { ...context, order: { ...context.order, ageDays: 2 }, priorRefunds: { count: 0, items: [] } };
    expect(playStep(playbook, 1, fresh)).toEqual({
      observations: ['Order ORD-5001 is 2 days old.'],
      next: {
        kind: 'propose',
        operation: 'refunds.issue',
        params: { orderId: 'ORD-5001', amountCents: 4599 },
        rationale: 'Case CASE-1001 qualifies.',
      },
    });
  });

  it('throws a PlaybookError when the step is out of range', () => {
    expect(() => playStep(playbook, 3, context)).toThrow(
      new PlaybookError('the playbook has 3 steps; step 4 was asked for'),
    );
    expect(() => playStep(playbook, -1, context)).toThrow(PlaybookError);
  });

  it('validates the result as a ReasoningStep', () => {
    const bad = Playbook.parse({ steps: [{ next: { kind: 'launch', target: 'moon' } }] });
    expect(() => playStep(bad, 0, context)).toThrow(ZodError);
    const badFinish = Playbook.parse({
      steps: [
        {
          checks: [
            { when: { path: 'order.ageDays', op: 'gt', value: 0 }, observation: 'x', finish: { kind: 'finish' } },
          ],
          next: { kind: 'finish', verdict: 'completed', summary: 'ok' },
        },
      ],
    });
    expect(() => playStep(badFinish, 0, context)).toThrow(ZodError);
    // A whole template can smuggle in a value of the wrong type: still caught.
    const wrongType = Playbook.parse({
      steps: [{ next: { kind: 'read', operation: 'cases.get', params: '{{input.caseId}}', as: 'case' } }],
    });
    expect(() => playStep(wrongType, 0, context)).toThrow(ZodError);
  });

  it('rejects malformed playbooks at parse time', () => {
    expect(Playbook.safeParse({ steps: [] }).success).toBe(false);
    expect(
      Playbook.safeParse({ steps: [{ next: {}, checks: [{ when: { path: 'a', op: 'like', value: 1 } }] }] }).success,
    ).toBe(false);
    expect(Playbook.safeParse({ steps: [{ next: {}, extra: 1 }] }).success).toBe(false);
  });
});

import type { ReasoningProvider, ReasoningRequest } from '../../../reasoning/provider';
import { ProviderRegistry } from '../../../reasoning/registry';
import { routeStep } from '../../../reasoning/router';
import type { RouterDeps } from '../../../reasoning/router';
import { sampleRequest } from '../../support/fake-llm-server';

/** A provider that answers from what it was shown, as a model outside the boundary would. */
function provider(id: string, answer: (request: ReasoningRequest) => unknown): ReasoningProvider & { seen: string[] } {
  const seen: string[] = [];
  return {
    id,
    seen,
    async step(request) {
      seen.push(JSON.stringify(request));
      return { step: answer(request), usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

const deps = (p: ReasoningProvider, boundary: string[]): RouterDeps => ({
  registry: new ProviderRegistry([p]),
  boundary: new Set(boundary),
  prices: {},
  validationRetries: 0,
  pseudonymKey: new Uint8Array(32).fill(3),
  phoneRegions: ['US'],
});

const request = () =>
  sampleRequest({
    definition: { ...sampleRequest().definition, dataClass: 'internal' },
    context: {
      input: { caseId: 'CASE-1001' },
      case: { caseId: 'CASE-1001', customer: { name: 'Jane Doe', email: 'jane.doe@example.com' } },
    },
  });
const classification = { case: { 'customer.name': 'name' as const, 'customer.email': 'email' as const } };

const proposing = (reason: (customer: Record<string, string>) => string) => (r: ReasoningRequest) => {
  const customer = (r.context.case as { customer: Record<string, string> }).customer;
  return {
    observations: [`${customer.name} asks for a refund.`],
    next: {
      kind: 'propose',
      operation: 'refunds.issue',
      params: { orderId: 'ORD-5001', caseId: 'CASE-1001', amountCents: 100, currency: 'USD', reason: reason(customer) },
      rationale: `for ${customer.name}`,
    },
  };
};

describe('routeStep with personal data', () => {
  it('outside the boundary: the provider sees pseudonyms, the step comes back with the values mapped back', async () => {
    const p = provider(
      'openai:gpt-4o-mini',
      proposing((c) => `refund ${c.name} <${c.email}>`),
    );
    const routed = await routeStep(deps(p, ['offline']), request(), ['openai:gpt-4o-mini'], classification);
    expect(p.seen.join()).not.toMatch(/Jane|Doe|jane\.doe/);
    expect(routed.step.next).toMatchObject({
      params: { reason: 'refund Jane Doe <jane.doe@example.com>' },
      rationale: 'for Jane Doe',
    });
    expect(routed.step.observations[0]).toMatch(/^\[NAME_[0-9A-Z]{8}\] asks for a refund\.$/); // the model's words stay as said
    expect(routed.reidentified).toEqual([
      { field: 'params.reason', kinds: ['name', 'email'] },
      { field: 'rationale', kinds: ['name'] },
    ]);
    expect(routed.redactions).toMatchObject({ name: 1, email: 1 });
  });

  it('outside the boundary: a pseudonym never issued stays as written (policy denies it)', async () => {
    const p = provider(
      'openai:gpt-4o-mini',
      proposing(() => 'refund [NAME_00000000]'),
    );
    const routed = await routeStep(deps(p, ['offline']), request(), ['openai:gpt-4o-mini'], classification);
    expect(routed.step.next).toMatchObject({ params: { reason: 'refund [NAME_00000000]' } });
    expect(routed.reidentified).toEqual([{ field: 'rationale', kinds: ['name'] }]);
  });

  it('inside the boundary: nothing is pseudonymised and nothing is mapped', async () => {
    const p = provider(
      'ollama:llama3.2',
      proposing((c) => `refund ${c.name}`),
    );
    const routed = await routeStep(deps(p, ['ollama']), request(), ['ollama:llama3.2'], classification);
    expect(p.seen.join()).toContain('Jane Doe');
    expect(routed.step.next).toMatchObject({ params: { reason: 'refund Jane Doe' } });
    expect(routed.reidentified).toEqual([]);
  });
});

import { allowedProviders, isInsideBoundary, prepareForProvider } from '../../../reasoning/routing';
import { sampleRequest } from '../../support/fake-llm-server';

const BOUNDARY = new Set(['ollama', 'offline']);
const CANDIDATES = ['openai:gpt-4o-mini', 'ollama:llama3.2', 'anthropic:claude-haiku-4-5', 'offline:playbook'];

describe('allowedProviders', () => {
  it.each(['public', 'internal'] as const)('allows every provider, in order, for %s data', (dataClass) => {
    expect(allowedProviders(dataClass, CANDIDATES, BOUNDARY)).toEqual({ allowed: CANDIDATES, excluded: [] });
  });

  it.each(['confidential', 'restricted'] as const)('keeps %s data inside the boundary', (dataClass) => {
    const decision = allowedProviders(dataClass, CANDIDATES, BOUNDARY);
    expect(decision.allowed).toEqual(['ollama:llama3.2', 'offline:playbook']);
    expect(decision.excluded.map((e) => e.id)).toEqual(['openai:gpt-4o-mini', 'anthropic:claude-haiku-4-5']);
    expect(decision.excluded[0].reason).toBe(
      `${dataClass} data stays inside the deployment boundary and openai is outside it`,
    );
  });

  it('follows an overridden boundary and ignores duplicate candidates', () => {
    const decision = allowedProviders('restricted', [...CANDIDATES, 'openai:gpt-4o-mini'], new Set(['openai']));
    expect(decision.allowed).toEqual(['openai:gpt-4o-mini']);
    expect(decision.excluded).toHaveLength(3);
  });

  it('can leave nothing allowed', () => {
    expect(allowedProviders('confidential', ['openai:gpt-4o-mini'], BOUNDARY).allowed).toEqual([]);
  });

  it('judges the provider part of the id', () => {
    expect(isInsideBoundary('ollama:qwen2.5:7b', BOUNDARY)).toBe(true);
    expect(isInsideBoundary('openai:ollama', BOUNDARY)).toBe(false);
  });
});

describe('prepareForProvider', () => {
  const request = () =>
    sampleRequest({
      context: {
        input: { caseId: 'CASE-0042', note: 'call +44 20 7946 0958 or mail jane.doe@example.com' },
        case: { email: 'jane.doe@example.com', card: '4111 1111 1111 1111' },
      },
      history: [{ kind: 'read', summary: 'customer jane.doe@example.com asked for a refund' }],
    });

  it('passes the request through unchanged inside the boundary', () => {
    const original = request();
    const prepared = prepareForProvider(original, true);
    expect(prepared.request).toBe(original);
    expect(Object.values(prepared.redactions).every((n) => n === 0)).toBe(true);
  });

  it('redacts context and history outside the boundary with shared placeholders, returning counts only', () => {
    const original = request();
    const prepared = prepareForProvider(original, false);
    const text = JSON.stringify(prepared.request);
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).not.toContain('4111 1111 1111 1111');
    expect(text).not.toContain('7946');
    expect(prepared.request.history[0].summary).toBe('customer [EMAIL_1] asked for a refund');
    expect((prepared.request.context.case as { email: string }).email).toBe('[EMAIL_1]');
    expect(prepared.redactions).toEqual({ email: 3, phone: 1, card: 1, iban: 0, national_id: 0 });
    expect(JSON.stringify(prepared.redactions)).not.toContain('jane');
    // The caller's request is left as it was, and the rest of the request is untouched.
    expect(original.history[0].summary).toContain('jane.doe@example.com');
    expect(prepared.request.definition).toBe(original.definition);
    expect(prepared.request.missionId).toBe(original.missionId);
  });
});

import { MissionPseudonyms } from '../../../reasoning/pseudonyms';
import type { Privacy } from '../../../reasoning/routing';
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

const KEY = new Uint8Array(32).fill(7);
const privacy = (classification: Privacy['classification'] = {}, missionId = 'mission-test-1'): Privacy => ({
  pseudonyms: new MissionPseudonyms(KEY, missionId, ['US', 'GB']),
  classification,
});
const TOKEN = /\[(?:NAME|EMAIL|PHONE|ADDRESS|CARD|IBAN|PAYMENT|NATIONAL_ID)_[0-9A-Z]{8}\]/g;

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
    const prepared = prepareForProvider(original, true, privacy());
    expect(prepared.request).toBe(original);
    expect(Object.values(prepared.redactions).every((n) => n === 0)).toBe(true);
  });

  it('redacts context and history outside the boundary with shared pseudonyms, returning counts only', () => {
    const original = request();
    const prepared = prepareForProvider(original, false, privacy());
    const text = JSON.stringify(prepared.request);
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).not.toContain('4111 1111 1111 1111');
    expect(text).not.toContain('7946');
    const email = (prepared.request.context.case as { email: string }).email;
    expect(email).toMatch(/^\[EMAIL_[0-9A-Z]{8}\]$/);
    expect(prepared.request.history[0].summary).toBe(`customer ${email} asked for a refund`);
    expect(prepared.redactions).toMatchObject({ email: 3, phone: 1, card: 1, iban: 0, national_id: 0 });
    expect(JSON.stringify(prepared.redactions)).not.toContain('jane');
    // The caller's request is left as it was, and the rest of the request is untouched.
    expect(original.history[0].summary).toContain('jane.doe@example.com');
    expect(prepared.request.definition).toBe(original.definition);
    expect(prepared.request.missionId).toBe(original.missionId);
  });

  const customerCase = () =>
    sampleRequest({
      context: {
        input: { caseId: 'CASE-1001', customerName: 'Jane Doe' },
        case: {
          caseId: 'CASE-1001',
          subject: 'Kettle broken',
          description: 'Hi, JANE DOE here, call 4155550132 or mail jane dot doe at example dot com. Mrs Doe.',
          customer: {
            name: 'Jane Doe',
            email: 'Jane.Doe@example.com',
            phone: '+1 415 555 0132',
            address: '12 Harbour Road, Leeds LS1 4AB',
          },
        },
        order: {
          orderId: 'ORD-5001',
          payments: [
            { card_number: '4111 1111 1111 1111', method: 'card' },
            { card_number: 'GB82 WEST 1234 5698 7654 32' },
          ],
        },
      },
      history: [{ kind: 'read', summary: 'Jane Doe from 12 Harbour Road, Leeds LS1 4AB wrote in' }],
    });
  const classification = {
    input: { customerName: 'name' as const },
    case: {
      'customer.name': 'name' as const,
      'customer.email': 'email' as const,
      'customer.phone': 'phone' as const,
      'customer.address': 'address' as const,
      description: 'free_text' as const,
    },
    order: { 'payments.card_number': 'payment' as const },
  };

  it('replaces declared fields whole and finds the same people in free text under the same pseudonyms', () => {
    const prepared = prepareForProvider(customerCase(), false, privacy(classification));
    const text = JSON.stringify(prepared.request.context) + JSON.stringify(prepared.request.history);
    for (const value of ['Jane', 'JANE', 'Doe', 'Harbour', '4155550132', '415 555', 'example dot com', '4111', 'WEST'])
      expect(text).not.toContain(value);
    const c = prepared.request.context.case as Record<string, Record<string, string> | string>;
    const customer = c.customer as Record<string, string>;
    expect(customer.name).toMatch(/^\[NAME_/);
    expect((prepared.request.context.input as Record<string, string>).customerName).toBe(customer.name);
    expect(c.description).toContain(`Hi, ${customer.name} here, call ${customer.phone} or mail ${customer.email}.`);
    expect(c.caseId).toBe('CASE-1001'); // not personal, not touched
    expect(c.subject).toBe('Kettle broken');
    const payments = (prepared.request.context.order as { payments: Record<string, string>[] }).payments;
    expect(payments[0].card_number).toMatch(/^\[CARD_/);
    expect(payments[1].card_number).toMatch(/^\[IBAN_/);
    expect(payments[0].method).toBe('card');
    expect(prepared.request.history[0].summary).toBe(`${customer.name} from ${customer.address} wrote in`);
    expect(prepared.redactions).toMatchObject({ name: 5, email: 2, phone: 2, address: 2, card: 1, iban: 1 });
  });

  it('keeps pseudonyms stable across steps and workers of one mission, and different across missions', () => {
    const a = prepareForProvider(customerCase(), false, privacy(classification));
    const b = prepareForProvider(customerCase(), false, privacy(classification));
    const other = prepareForProvider(customerCase(), false, privacy(classification, 'mission-test-2'));
    const tokens = (p: typeof a) => JSON.stringify(p.request.context).match(TOKEN);
    expect(tokens(b)).toEqual(tokens(a));
    expect(new Set(tokens(other))).not.toEqual(new Set(tokens(a)));
    expect(tokens(other)!.filter((t) => tokens(a)!.includes(t))).toEqual([]);
  });
});

describe('MissionPseudonyms.reidentify', () => {
  it('maps issued pseudonyms back, names the fields, and leaves unknown ones in place', () => {
    const p = privacy(classification()).pseudonyms;
    const name = p.declare('name', 'Jane Doe');
    const email = p.declare('email', 'Jane.Doe@example.com');
    const stranger = new MissionPseudonyms(KEY, 'another-mission', ['US']).pseudonym('name', 'Jane Doe');
    const back = p.reidentify({
      orderId: 'ORD-5001',
      reason: `Refund for ${name} (${email})`,
      notify: [email],
      other: `${stranger} and [EMAIL_1]`,
    });
    expect(back.value).toEqual({
      orderId: 'ORD-5001',
      reason: 'Refund for Jane Doe (Jane.Doe@example.com)',
      notify: ['Jane.Doe@example.com'],
      other: `${stranger} and [EMAIL_1]`,
    });
    expect(back.fields).toEqual([
      { field: 'reason', kinds: ['name', 'email'] },
      { field: 'notify[0]', kinds: ['email'] },
    ]);
    expect(back.unknown).toEqual([stranger, '[EMAIL_1]']);
  });
});

function classification(): Privacy['classification'] {
  return {};
}

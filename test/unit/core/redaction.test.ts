import fc from 'fast-check';
import { ibanValid, luhnValid, redact, redactJson } from '../../../core/redaction';
import type { RedactionKind } from '../../../core/redaction';

const counts = (partial: Partial<Record<RedactionKind, number>>): Record<RedactionKind, number> => ({
  name: 0,
  address: 0,
  payment: 0,
  email: 0,
  phone: 0,
  card: 0,
  iban: 0,
  national_id: 0,
  ...partial,
});

describe('helpers', () => {
  it('luhnValid accepts test card numbers and rejects near-misses', () => {
    for (const n of ['4111111111111111', '5555555555554444', '378282246310005', '79927398713']) {
      expect(luhnValid(n)).toBe(true);
    }
    for (const n of ['4111111111111112', '1234567890123456', '', '7', '4111 1111 1111 1111', 'abcd']) {
      expect(luhnValid(n)).toBe(false);
    }
  });

  it('ibanValid checks country length and mod-97', () => {
    expect(ibanValid('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('de89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('GB83 WEST 1234 5698 7654 32')).toBe(false); // check digits
    expect(ibanValid('GB82 WEST 1234 5698 7654 3')).toBe(false); // length
    expect(ibanValid('XX82 WEST 1234 5698 7654 32')).toBe(false); // unknown country
    expect(ibanValid('')).toBe(false);
  });
});

describe('redact', () => {
  it('redacts Luhn-valid card numbers in common layouts', () => {
    const r = redact('Visa 4111 1111 1111 1111, MC 5555-5555-5555-4444, Amex 378282246310005.');
    expect(r.text).toBe('Visa [CARD_1], MC [CARD_2], Amex [CARD_3].');
    expect(r.counts).toEqual(counts({ card: 3 }));
  });

  it('treats one card in different layouts as one value', () => {
    const r = redact('3782 822463 10005 = 3782-822463-10005 = 378282246310005; 4111-1111-1111-1111 = 4111111111111111');
    expect(r.text).toBe('[CARD_1] = [CARD_1] = [CARD_1]; [CARD_2] = [CARD_2]');
    expect(r.counts).toEqual(counts({ card: 5 }));
  });

  it('does not join digit groups with mixed separators into a card', () => {
    const text = 'ids 000-12-3456 666-12-3456 and 4111-1111 1111-1111';
    expect(redact(text).text).toBe(text);
  });

  it('redacts a card followed by its expiry date', () => {
    expect(redact('card 4111 1111 1111 1111 12/25').text).toBe('card [CARD_1] 12/25');
  });

  it('redacts valid IBANs, stopping at the country length', () => {
    const r = redact('Pay GB82 WEST 1234 5698 7654 32 REF 7 or DE89 3704 0044 0532 0130 00.');
    expect(r.text).toBe('Pay [IBAN_1] REF 7 or [IBAN_2].');
    expect(r.counts).toEqual(counts({ iban: 2 }));
  });

  it('redacts a valid SSN but not invalid areas, groups or serials', () => {
    const r = redact('SSN 123-45-6789; 000-12-3456 666-12-3456 912-12-3456 123-00-4567 123-45-0000');
    expect(r.text).toBe('SSN [NATIONAL_ID_1]; 000-12-3456 666-12-3456 912-12-3456 123-00-4567 123-45-0000');
  });

  it('redacts UK NINOs in their common spellings, HMRC specimen prefixes included', () => {
    // QQ is HMRC's specimen prefix: people write it in examples and test data, so it is treated as a real one.
    const r = redact('NI AB123456C or AB 12 34 56 C or QQ 12 34 56 C or qq-12-34-56-c; not AB123456E or ab123456c');
    expect(r.text).toBe(
      'NI [NATIONAL_ID_1] or [NATIONAL_ID_1] or [NATIONAL_ID_2] or qq-12-34-56-c; not AB123456E or ab123456c',
    );
    expect(r.counts).toEqual(counts({ national_id: 3 }));
    // Lower case counts only right after a keyword.
    expect(redact('national insurance number: qq 12 34 56 c').text).toBe('national insurance number: [NATIONAL_ID_1]');
  });

  it('redacts emails', () => {
    const r = redact('Write to Jane.Doe+ops@Example.co.uk. Or jane.doe+ops@example.co.uk');
    expect(r.text).toBe('Write to [EMAIL_1]. Or [EMAIL_1]');
  });

  it.each([
    '+44 20 7946 0958',
    '+44 (0)20 7946 0958',
    '+1 (415) 555-2671',
    '+1-415-555-2671',
    '+442079460958',
    '(415) 555-2671',
    '415.555.2671',
    '1-800-555-0199',
    '020 7946 0958',
    '07700 900123',
    '+33 1 23 45 67 89',
    '06 12 34 56 78',
    '+49 30 1234567',
  ])('redacts the phone number %s', (phone) => {
    const r = redact(`call ${phone}, thanks`);
    expect(r.text).toBe('call [PHONE_1], thanks');
    expect(r.counts).toEqual(counts({ phone: 1 }));
  });

  it.each([
    ['a non-Luhn 16-digit run', '4111 1111 1111 1112'],
    ['a spaced non-Luhn run', '1234 5678 9012 3456'],
    ['a compact non-Luhn run', '1234567812345678'],
    ['a long digit run', '1234 5678 9012 3456 7890'],
    ['an order number', 'ORD-20231105-0042'],
    ['an ISO timestamp', '2023-11-05T10:30:00Z'],
    ['a date and time', '2023-11-05 10:30:00'],
    ['European dates', '05.11.2023 and 05/11/2023'],
    ['an amount', '1,234,567.89'],
    ['a version string', '1.2.3.4 and v10.20.30'],
    ['an IP address', '192.168.100.200'],
    ['an IBAN with a wrong check digit', 'GB83 WEST 1234 5698 7654 32'],
    ['another IBAN with a wrong check digit', 'DE88 3704 0044 0532 0130 00'],
    ['an invalid SSN area', '000-12-3456'],
    ['a NANP number with an invalid area code', '123-456-7890'],
  ])('leaves %s alone', (_label, sample) => {
    const text = `ref ${sample} end`;
    expect(redact(text)).toEqual({ text, counts: counts({}) });
  });

  it('numbers placeholders per kind in order of first appearance and reuses them', () => {
    const r = redact('b@x.io, a@x.io, 4111-1111-1111-1111, b@x.io, 4111 1111 1111 1111, 5555555555554444');
    expect(r.text).toBe('[EMAIL_1], [EMAIL_2], [CARD_1], [EMAIL_1], [CARD_1], [CARD_2]');
    expect(r.counts).toEqual(counts({ email: 3, card: 3 }));
  });

  it('gives cards and IBANs precedence over phone numbers', () => {
    const r = redact('card 4111-1111-1111-1111 iban DE89 3704 0044 0532 0130 00 tel 415-555-2671');
    expect(r.text).toBe('card [CARD_1] iban [IBAN_1] tel [PHONE_1]');
  });

  it('never returns an original value', () => {
    const secrets = ['4111 1111 1111 1111', 'GB82 WEST 1234 5698 7654 32', '123-45-6789', 'a@b.io', '+44 20 7946 0958'];
    const serialized = JSON.stringify(redact(secrets.join(' | ')));
    for (const s of secrets) expect(serialized).not.toContain(s);
    expect(serialized).not.toMatch(/\d{4}/);
  });

  it('returns text without digits or @ unchanged', () => {
    const alphabet = [...'abcXYZ éü日本 .,;:-+()/_\'"!?\n\t[]{}#%&*=<>'];
    const safe = fc.oneof(
      fc.string({ unit: fc.constantFrom(...alphabet) }),
      fc.string({ unit: 'binary' }).map((s) => s.replace(/[0-9@]/g, '')),
    );
    fc.assert(
      fc.property(safe, (text) => {
        expect(redact(text)).toEqual({ text, counts: counts({}) });
      }),
    );
  });
});

describe('redactJson', () => {
  it('walks strings and keys with one shared numbering, keeping other leaves', () => {
    const input = {
      customer: { email: 'a@b.io', phones: ['+44 20 7946 0958', 'backup: +44 20 7946 0958'] },
      'a@b.io': true,
      notes: [null, 42, 'card 4111 1111 1111 1111', { deep: 'SSN 123-45-6789' }],
    };
    const before = JSON.stringify(input);
    const r = redactJson(input);
    expect(r.value).toEqual({
      customer: { email: '[EMAIL_1]', phones: ['[PHONE_1]', 'backup: [PHONE_1]'] },
      '[EMAIL_1]': true,
      notes: [null, 42, 'card [CARD_1]', { deep: 'SSN [NATIONAL_ID_1]' }],
    });
    expect(r.counts).toEqual(counts({ email: 2, phone: 2, card: 1, national_id: 1 }));
    expect(JSON.stringify(input)).toBe(before);
  });

  it('passes primitives through', () => {
    expect(redactJson(7)).toEqual({ value: 7, counts: counts({}) });
    expect(redactJson('mail a@b.io')).toEqual({ value: 'mail [EMAIL_1]', counts: counts({ email: 1 }) });
  });
});

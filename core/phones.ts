import { getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import type { Hit } from './scan';
import { LB, RB, before, scan } from './scan';

/**
 * Phone numbers in free text. Regular expressions only find candidates; libphonenumber (full
 * metadata) decides: a number written in a phone layout (`+`, `00`, brackets, separators) counts when
 * it is valid or of a possible length for one of the regions; a bare run of digits only when it is
 * valid — dialled as written, so with the trunk `0` outside North America — and no id keyword
 * ("order", "invoice", "case") stands right before it.
 */

const INTL = new RegExp(
  String.raw`${LB}(?:\+|00)(?:\d{8,15}|\d{1,3}(?:[ .\-]?\(\d{1,4}\)[ .\-]?\d{1,8})?(?:[ .\-]\d{1,8}){1,6})${RB}`,
  'gu',
);
const NANP = new RegExp(String.raw`${LB}(?:1[ .\-])?(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}${RB}`, 'gu');
const NATIONAL = new RegExp(String.raw`${LB}(?:\(0\d{1,4}\) ?\d{3,8}(?:[ .\-]\d{2,8}){0,3}|0[1-9]\d{0,4}(?:[ .\-/]\d{2,8}){1,5})${RB}`, 'gu'); // prettier-ignore
const BARE = new RegExp(String.raw`${LB}\d{9,12}${RB}`, 'gu');

const DATE = /^\d{1,4}[./\-]\d{1,2}(?:[./\-]\d{1,4})?$/;
/** A quantity, not a number to dial: "4155550132 cents". */
const UNIT_AFTER = /^\s?(?:cents?|usd|eur|gbp|dollars?|euros?|pounds?|kg|km|items?|units?|pcs|times|%)\b/i;
const ID_KEYWORD = /(?:order|invoice|inv|isbn|issn|ean|case|ticket|ref|reference|account|acct|a\/c|id|tracking|sku|po|serial|transaction|txn|batch|lot|item|code|voucher|pin|no\.|number|#)(?:\s+(?:no\.?|number|id|#))?\W{0,4}$/; // prettier-ignore
const PHONE_KEYWORD =
  /(?:phone|tel|telephone|mobile|cell|call|text|sms|whatsapp|fax|contact|ring|reach|dial)\b[^\d]{0,16}$/;

/** An id keyword ("order no", "invoice", "voucher code") right before, and no phone keyword. */
function namedAnId(text: string, index: number): boolean {
  const lead = before(text, index, 24);
  return ID_KEYWORD.test(lead) && !PHONE_KEYWORD.test(lead);
}

const isNanp = (region: string): boolean => getCountryCallingCode(region as CountryCode) === '1';

function parse(raw: string, region?: string): PhoneNumber | undefined {
  try {
    return parsePhoneNumberFromString(raw, region as CountryCode | undefined);
  } catch {
    return undefined;
  }
}

/**
 * The E.164 form of a number valid in the first region that agrees (an international number needs none),
 * else, when `possibleWillDo`, of one of a possible length; `dialled` can veto a region (trunk prefix).
 */
function e164(
  raw: string,
  regions: readonly string[],
  possibleWillDo: boolean,
  dialled: (region?: string) => boolean = () => true,
): string | null {
  const international = /^\s*(?:\+|00)/.test(raw);
  let possible: string | null = null;
  for (const region of international ? [undefined] : regions) {
    if (!dialled(region)) continue;
    const p = parse(international ? raw.replace(/^\s*00/, '+') : raw, region);
    if (!p) continue;
    if (p.isValid()) return p.number;
    if (possibleWillDo && possible === null && p.isPossible()) possible = p.number;
  }
  return possible;
}

/** A number in a phone layout: valid, or at least of a possible length, in one of the regions. */
const laidOut = (regions: readonly string[]) => (raw: string) =>
  DATE.test(raw) || raw.replace(/\D/g, '').length < 7 ? null : e164(raw, regions, true);

export function detectPhones(text: string, regions: readonly string[]): Hit[] {
  // Cheap gate: no phone number has fewer than seven digits.
  let digits = 0;
  for (let i = 0; i < text.length && digits < 7; i++)
    if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) digits++;
  if (digits < 7) return [];
  const check = laidOut(regions);
  const accept = (m: RegExpExecArray, value: string | null): Hit | null => {
    const end = m.index + m[0].length;
    if (value === null || UNIT_AFTER.test(text.slice(end, end + 12))) return null;
    return { start: m.index, end, kind: 'phone', value };
  };
  return [
    ...scan(INTL, text, (m) => accept(m, check(m[0]))),
    ...scan(NANP, text, (m) => accept(m, e164(m[0], [regions.find(isNanp) ?? 'US'], false))),
    ...scan(NATIONAL, text, (m) => (namedAnId(text, m.index) ? null : accept(m, check(m[0])))),
    ...scan(BARE, text, (m) => {
      if (namedAnId(text, m.index)) return null;
      const trunk = m[0].startsWith('0');
      return accept(
        m,
        e164(m[0], regions, false, (region) => trunk !== isNanp(region ?? '')),
      );
    }),
  ].sort((a, b) => a.start - b.start);
}

/** The comparable form of a phone value: E.164 when it parses in one of the regions, else its digits. */
export function normalisePhone(raw: string, regions: readonly string[]): string {
  if (/^\+\d{7,15}$/.test(raw)) return raw; // already E.164 (the detector's own values)
  return e164(raw, regions, true) ?? raw.replace(/[^\d+]/g, '');
}

import { createHmac } from 'node:crypto';
import { ibanValid, luhnValid } from '../core/detectors';
import type { KnownValue } from '../core/known-values';
import { normaliseValue } from '../core/known-values';
import type { PersonalDataKind, PseudonymCounts, PseudonymKind } from '../core/personal-data';
import { placeholderPattern, zeroCounts } from '../core/personal-data';

/**
 * Reversible pseudonyms for one mission, kept in the worker only.
 *
 * A pseudonym is keyed, not numbered: `[NAME_K3J9QX2A]` is the first 40 bits of
 * HMAC-SHA256(worker key, missionId ‖ kind ‖ normalised value), in Crockford base32. So the same
 * person is the same pseudonym in every step of a mission, on any worker that holds the key, after any
 * restart — and a different one in another mission — while no table of values is stored anywhere:
 * not in history (which carries only counts and kinds), not on disk. Mapping back needs the value
 * itself, and the worker has it: every reasoning step is prepared from the mission's context, which
 * holds all the model was ever shown. A pseudonym that does not resolve against it was never issued
 * by this mission (or names another mission's data) and is refused.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TAG_CHARS = 8;

function tag(digest: Buffer): string {
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < TAG_CHARS) {
      out += CROCKFORD[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === TAG_CHARS) break;
  }
  return out;
}

/** What a declared field's value is pseudonymised as: a payment field holding a card or IBAN says which. */
export function pseudonymKindOf(kind: Exclude<PersonalDataKind, 'free_text'>, value: string): PseudonymKind {
  if (kind !== 'payment') return kind;
  const digits = value.replace(/[\s-]/g, '');
  if (/^\d{12,19}$/.test(digits) && luhnValid(digits)) return 'card';
  if (ibanValid(value)) return 'iban';
  return 'payment';
}

export interface Reidentified {
  value: unknown;
  /** Fields (dotted paths) where pseudonyms were mapped back, with the kinds found there. */
  fields: { field: string; kinds: PseudonymKind[] }[];
  /** Pseudonym-shaped tokens that resolve to nothing this mission issued (left in place). */
  unknown: string[];
}

export class MissionPseudonyms {
  /** Occurrences replaced per kind in what was prepared (counts only ever leave this object). */
  readonly counts: PseudonymCounts = zeroCounts();
  private readonly issued = new Map<string, { kind: PseudonymKind; value: string; key: string }>();
  private readonly ambiguous = new Set<string>();
  private readonly knownValues: KnownValue[] = [];
  /** kind ‖ normalised value → pseudonym, so a value seen again costs no HMAC. */
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly key: Uint8Array,
    readonly missionId: string,
    readonly phoneRegions: readonly string[],
  ) {}

  /**
   * The pseudonym of a value of a kind, given as written (`raw`, what maps back: the first spelling
   * seen) and, when the detector already knows it, normalised ("jane dot doe at …" → jane.doe@…).
   */
  pseudonym(kind: PseudonymKind, raw: string, normalised?: string): string {
    const key = normalised ?? normaliseValue(kind, raw, this.phoneRegions);
    const cacheKey = `${kind}\u0000${key}`;
    let token = this.tokens.get(cacheKey);
    if (token === undefined) {
      const digest = createHmac('sha256', this.key).update(`${this.missionId}\u0000${cacheKey}`).digest();
      token = `[${kind.toUpperCase()}_${tag(digest)}]`;
      this.tokens.set(cacheKey, token);
    }
    const seen = this.issued.get(token);
    if (!seen) this.issued.set(token, { kind, value: raw, key });
    else if (seen.key !== key) this.ambiguous.add(token); // 40-bit collision within one mission: refuse to map back
    return token;
  }

  /** Records a declared value so the detector finds it in free text too, and returns its pseudonym. */
  declare(kind: PseudonymKind, raw: string): string {
    if (!this.knownValues.some((k) => k.kind === kind && k.value === raw)) this.knownValues.push({ kind, value: raw });
    return this.pseudonym(kind, raw);
  }

  /** Values known to be personal in this mission (its subject, the people its reads returned). */
  get known(): readonly KnownValue[] {
    return this.knownValues;
  }

  /** Maps the pseudonyms in a JSON value's strings back to the values they stand for. */
  reidentify(value: unknown): Reidentified {
    const fields = new Map<string, Set<PseudonymKind>>();
    const unknown = new Set<string>();
    const mapString = (s: string, field: string): string =>
      s.replace(placeholderPattern(), (token) => {
        const found = this.ambiguous.has(token) ? undefined : this.issued.get(token);
        if (!found) {
          unknown.add(token);
          return token;
        }
        const kinds = fields.get(field) ?? fields.set(field, new Set()).get(field)!;
        kinds.add(found.kind);
        return found.value;
      });
    const walk = (v: unknown, path: string): unknown => {
      if (typeof v === 'string') return mapString(v, path);
      if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`));
      if (v !== null && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, member]) => [k, walk(member, path ? `${path}.${k}` : k)]));
      }
      return v;
    };
    return {
      value: walk(value, ''),
      fields: [...fields].map(([field, kinds]) => ({ field, kinds: [...kinds] })),
      unknown: [...unknown],
    };
  }
}

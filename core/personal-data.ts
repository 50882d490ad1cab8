import { z } from 'zod';

/**
 * Personal data classification, declared where data is defined: a connector operation's result
 * schema (and a mission definition's input) names which fields hold personal data and of what kind.
 * Before data crosses the deployment boundary, declared fields are replaced whole by pseudonyms;
 * `free_text` fields (and anything undeclared) go through the detector.
 */

/** Kinds a field may be declared as. */
export const PERSONAL_DATA_KINDS = [
  'name',
  'email',
  'phone',
  'address',
  'payment',
  'national_id',
  'free_text',
] as const;
export type PersonalDataKind = (typeof PERSONAL_DATA_KINDS)[number];

/**
 * Field path → kind. Paths are dotted (`customer.name`); arrays are walked transparently, so
 * `payments.cardNumber` names that field in every element of `payments`.
 */
export const PersonalDataMap = z.record(
  z.string().regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/, 'a dotted field path such as customer.name'),
  z.enum(PERSONAL_DATA_KINDS),
);
export type PersonalDataMap = z.infer<typeof PersonalDataMap>;

/** Kinds of pseudonym a value can be replaced by (declared kinds and what the detector finds). */
export const PSEUDONYM_KINDS = ['name', 'email', 'phone', 'address', 'card', 'iban', 'payment', 'national_id'] as const;
export type PseudonymKind = (typeof PSEUDONYM_KINDS)[number];

/** Occurrences replaced per kind: what history may carry about personal data (never the values). */
export type PseudonymCounts = Record<PseudonymKind, number>;

export const zeroCounts = (): PseudonymCounts =>
  Object.fromEntries(PSEUDONYM_KINDS.map((k) => [k, 0])) as PseudonymCounts;

/**
 * Anything shaped like a pseudonym or placeholder: `[EMAIL_1]`, `[NAME_K3J9QX2A]`. Params that still
 * hold one after re-identification name a value this mission never issued, and are refused.
 */
const PLACEHOLDER = new RegExp(
  String.raw`\[(?:${PSEUDONYM_KINDS.map((k) => k.toUpperCase()).join('|')})_[0-9A-Z]+\]`,
  'g',
);

/** Every placeholder-shaped token in the strings (and keys) of a JSON value, once each, in order. */
export function placeholdersIn(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) found.add(m[0]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object')
      for (const [k, member] of Object.entries(v)) {
        walk(k);
        walk(member);
      }
  };
  walk(value);
  return [...found];
}

/** The regex matching one placeholder-shaped token (global; callers reset `lastIndex` by using `replace`). */
export const placeholderPattern = (): RegExp => new RegExp(PLACEHOLDER.source, 'g');

export interface DeclaredWalk {
  declared: PersonalDataMap;
  /** A leaf under a declared path (every leaf of a declared list or record has the field's kind). */
  visit(leaf: unknown, kind: PersonalDataKind, path: string): unknown;
  /** A leaf no path declares. */
  undeclared(leaf: unknown, path: string): unknown;
  /** An object key (keys may hold data too, e.g. a record keyed by email). Default: kept. */
  key?(key: string): string;
}

/**
 * Copies `value`, replacing each leaf by what the walk's `visit` (declared) or `undeclared` returns.
 * Arrays are walked transparently: `payments.cardNumber` applies to every element of `payments`.
 */
export function mapDeclared(value: unknown, walk: DeclaredWalk, path = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => mapDeclared(item, walk, path));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, member]) => {
        const at = path ? `${path}.${key}` : key;
        const kind = Object.hasOwn(walk.declared, at) ? walk.declared[at] : undefined;
        return [
          walk.key ? walk.key(key) : key,
          kind ? visitLeaves(member, kind, at, walk) : mapDeclared(member, walk, at),
        ];
      }),
    );
  }
  return walk.undeclared(value, path);
}

function visitLeaves(value: unknown, kind: PersonalDataKind, path: string, walk: DeclaredWalk): unknown {
  if (Array.isArray(value)) return value.map((item) => visitLeaves(item, kind, path, walk));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, member]) => [
        walk.key ? walk.key(k) : k,
        visitLeaves(member, kind, `${path}.${k}`, walk),
      ]),
    );
  }
  return walk.visit(value, kind, path);
}

import * as proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Field, Type } from 'protobufjs';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../core/payload-encryption';

/**
 * Reading mission histories in the JSON format of `temporal workflow show --output json` (proto3
 * JSON: enum names, int64 as strings, payload bytes as base64). Only `json/plain` payloads are
 * decoded; anything else is reported as undecodable rather than guessed (encrypted payloads name their
 * key id: `decryptHistory` in decrypt.ts makes the copy the report can read).
 */

/** One event of a history JSON file; fields beyond these are kept but not typed. */
export interface HistoryEventJson {
  eventId: string;
  eventTime?: string;
  eventType: string;
  [attributes: string]: unknown;
}

export interface HistoryJson {
  events: HistoryEventJson[];
}

export interface PayloadJson {
  metadata?: Record<string, string>;
  data?: string;
}

/** Thrown for a file that is not a history at all (not for unknown event types or fields). */
export class InvalidHistory extends Error {
  override name = 'InvalidHistory';
}

/** Parses history JSON text or an already parsed object, checking only its outer shape. */
export function parseHistoryJson(source: string | Uint8Array | unknown): HistoryJson {
  let value: unknown = source;
  if (typeof source === 'string' || source instanceof Uint8Array) {
    const text = typeof source === 'string' ? source : Buffer.from(source).toString('utf8');
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InvalidHistory(`history is not valid JSON: ${(err as Error).message}`);
    }
  }
  const events = (value as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidHistory(
      'history must be an object with a non-empty "events" array (temporal workflow show --output json)',
    );
  }
  events.forEach((event: unknown, i) => {
    const e = event as Partial<HistoryEventJson> | null;
    if (!e || typeof e.eventType !== 'string' || e.eventId === undefined) {
      throw new InvalidHistory(`history event #${i + 1} has no eventType/eventId`);
    }
  });
  return value as HistoryJson;
}

/**
 * Canonical bytes of a history in the stock JSON format: the SDK's `historyToJSON` (the same norm as
 * the Temporal CLI), pretty-printed with two spaces and a final newline, with the entries of every
 * protobuf map (payload metadata, search attributes, memo and header fields) sorted by key — the
 * server sends those in no fixed order, and the same history must always yield the same bytes. The
 * file loads in `temporal workflow show`-compatible tooling.
 */
export function canonicalHistoryBytes(history: temporal.api.history.v1.IHistory | HistoryJson): Buffer {
  const message = 'events' in history && isJsonHistory(history) ? historyFromJSON(history) : history;
  const json = JSON.parse(historyToJSON(message as temporal.api.history.v1.History)) as unknown;
  return Buffer.from(`${JSON.stringify(sortMaps(json, historyType()), null, 2)}\n`, 'utf8');
}

let historyTypeCache: Type | undefined;
function historyType(): Type {
  historyTypeCache ??= (patchProtobufRoot(proto) as unknown as { lookupType(name: string): Type }).lookupType(
    'temporal.api.history.v1.History',
  );
  return historyTypeCache;
}

/** Sorts the keys of every map field in a proto3 JSON value of `type`, recursively. */
function sortMaps(value: unknown, type: Type): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value as Record<string, unknown>)) {
    const field: Field | undefined = type.fields[name] ?? type.fieldsArray.find((f) => f.name === name);
    out[name] = field ? sortField(member, field) : member;
  }
  return out;
}

function sortField(value: unknown, field: Field): unknown {
  field.resolve();
  const nested = field.resolvedType && 'fieldsArray' in field.resolvedType ? (field.resolvedType as Type) : undefined;
  const sub = (v: unknown) => (nested ? sortMaps(v, nested) : v);
  if (field.map && value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sub(v)]));
  }
  if (Array.isArray(value)) return value.map(sub);
  return sub(value);
}

function isJsonHistory(history: unknown): history is HistoryJson {
  const first = (history as HistoryJson).events?.[0];
  return first !== undefined && typeof first.eventType === 'string';
}

const JSON_PLAIN = 'json/plain';
const ENCRYPTED = ENCRYPTED_ENCODING;
const KEY_ID = KEY_ID_METADATA;

/** Decodes one payload; `undefined` data (a void result) decodes to `undefined`. */
export function decodePayload(
  payload: PayloadJson | undefined,
): { ok: true; value: unknown } | { ok: false; why: string } {
  if (!payload) return { ok: true, value: undefined };
  const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding, 'base64').toString('utf8') : '';
  if (encoding === 'binary/null') return { ok: true, value: undefined };
  if (encoding === ENCRYPTED) {
    const keyId = payload.metadata?.[KEY_ID] ? Buffer.from(payload.metadata[KEY_ID], 'base64').toString('utf8') : '?';
    return {
      ok: false,
      why: `payload is encrypted (key id ${keyId}): read it with the key ring (mandate audit report)`,
    };
  }
  if (encoding !== JSON_PLAIN)
    return { ok: false, why: `payload encoding ${encoding || '(none)'} is not ${JSON_PLAIN}` };
  try {
    return { ok: true, value: JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString('utf8')) };
  } catch (err) {
    return { ok: false, why: `payload is not valid JSON: ${(err as Error).message}` };
  }
}

/** Whether the first payload of a `{payloads: [...]}` field is encrypted (readable only with the key ring). */
export function isEncryptedField(field: unknown): boolean {
  const encoding = (field as { payloads?: PayloadJson[] } | undefined)?.payloads?.[0]?.metadata?.encoding;
  return encoding !== undefined && Buffer.from(encoding, 'base64').toString('utf8') === ENCRYPTED;
}

/** First payload of a `{payloads: [...]}` field, decoded. */
export function firstPayload(field: unknown): { ok: true; value: unknown } | { ok: false; why: string } {
  const payloads = (field as { payloads?: PayloadJson[] } | undefined)?.payloads;
  return decodePayload(payloads?.[0]);
}

/** The attributes object of an event (`<camelCaseType>EventAttributes`), or an empty object. */
export function attributesOf(event: HistoryEventJson): Record<string, unknown> {
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes'));
  return key ? ((event[key] as Record<string, unknown>) ?? {}) : {};
}

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ACTIVITY_TASK_SCHEDULED` (also accepts the numeric-free short form). */
export function shortType(event: HistoryEventJson): string {
  return event.eventType.replace(/^EVENT_TYPE_/, '');
}

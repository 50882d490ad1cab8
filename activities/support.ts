import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { Catalog, CatalogEntry } from '../catalog/catalog';
import { CatalogError } from '../catalog/catalog';
import type { Connector } from '../connectors/connector';
import { JsonObject } from '../core/mission';

/** What every activity shares: typed input parsing and lookups that fail as typed, non-retryable errors. */

/** Parses an activity's input; bad input fails fast, naming the activity and the field. */
export function parse<T extends z.ZodType>(schema: T, raw: unknown, activity: string): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw ApplicationFailure.create({
      type: 'InvalidActivityInput',
      nonRetryable: true,
      message: `${activity}: ${z.prettifyError(result.error)}`,
    });
  }
  return result.data;
}

/** A proposed action as activities receive it. */
export const Action = z.object({
  actionId: z.string().min(1),
  operation: z.string(),
  params: JsonObject,
  rationale: z.string(),
});

export function catalogEntry(catalog: Catalog, type: string): CatalogEntry {
  try {
    return catalog.get(type);
  } catch (err) {
    if (err instanceof CatalogError)
      throw ApplicationFailure.create({ type: 'UnknownMissionType', nonRetryable: true, message: err.message });
    throw err;
  }
}

/** The catalog entry a mission started under; a changed definition fails the mission rather than drift. */
export function entryAt(catalog: Catalog, type: string, version: string): CatalogEntry {
  const entry = catalogEntry(catalog, type);
  if (entry.definitionVersion !== version) {
    throw ApplicationFailure.create({
      type: 'DefinitionChanged',
      nonRetryable: true,
      message: `mission type ${type} changed since this mission started (version ${version.slice(0, 12)}, worker has ${entry.definitionVersion.slice(0, 12)})`,
    });
  }
  return entry;
}

export function connectorFor(connectors: Record<string, Connector>, name: string): Connector {
  const connector = Object.hasOwn(connectors, name) ? connectors[name] : undefined;
  if (!connector) {
    throw ApplicationFailure.create({
      type: 'UnknownConnector',
      nonRetryable: true,
      message: `this worker has no connector ${name} (it has ${Object.keys(connectors).join(', ') || 'none'})`,
    });
  }
  return connector;
}

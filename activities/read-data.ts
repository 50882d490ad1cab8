import { z } from 'zod';
import type { Connector } from '../connectors/connector';
import { ConnectorError, runRead } from '../connectors/connector';
import { JsonObject } from '../core/mission';
import { placeholdersIn } from '../core/personal-data';
import { Subject } from './decide-action';
import { connectorFor, parse } from './support';

export const ReadDataInput = z.object({
  missionId: z.string(),
  /** The connector the definition names (the field is `integration` in definitions and history). */
  integration: z.string(),
  operation: z.string(),
  params: JsonObject,
  scopes: z.array(z.string()),
  /** The mission's subject: a read of rows that are not the subject's is refused. */
  subject: Subject.optional(),
});

export type ReadResult = { ok: true; result: unknown } | { ok: false; refused: string; code: string };

/** A read within the mission's scopes and its subject's rows. A refusal is a result (the mission records it), not a failure. */
export function readDataActivity(connectors: Record<string, Connector>) {
  return async function readData(raw: z.input<typeof ReadDataInput>): Promise<ReadResult> {
    const input = parse(ReadDataInput, raw, 'readData');
    // Issued pseudonyms were mapped back when the step was reasoned; one left is not this mission's.
    const stray = placeholdersIn(input.params);
    if (stray.length) {
      return {
        ok: false,
        refused: `params name pseudonyms this mission never issued: ${stray.join(', ')}`,
        code: 'unknown_pseudonym',
      };
    }
    try {
      const result = runRead(connectorFor(connectors, input.integration), input.operation, input.params, input.scopes, {
        missionId: input.missionId,
        now: new Date(),
        ...(input.subject ? { subject: input.subject } : {}),
      });
      return { ok: true, result };
    } catch (err) {
      if (err instanceof ConnectorError) return { ok: false, refused: err.message, code: err.code };
      throw err;
    }
  };
}

import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import { InvalidMissionInput } from '../catalog/catalog';
import type { TrustedSigner } from '../contract/mission';
import type { MissionDefinition } from '../core/mission';
import { catalogEntry, parse } from './support';

export const LoadMissionInput = z.object({ missionType: z.string(), input: z.unknown() });
/** The definition snapshot and the keys this mission will trust (public keys only), pinned in history. */
export type LoadMissionResult = {
  definition: MissionDefinition;
  definitionVersion: string;
  trustedSigners: TrustedSigner[];
};

/** Loads the mission definition snapshot and validates the input against it (again: the client did too). */
export function loadMissionActivity(catalog: Catalog, trustedSigners: readonly TrustedSigner[]) {
  return async function loadMission(raw: z.input<typeof LoadMissionInput>): Promise<LoadMissionResult> {
    const { missionType, input } = parse(LoadMissionInput, raw, 'loadMission');
    const entry = catalogEntry(catalog, missionType);
    try {
      catalog.validateInput(missionType, input);
    } catch (err) {
      if (err instanceof InvalidMissionInput) {
        throw ApplicationFailure.create({ type: 'InvalidMissionInput', nonRetryable: true, message: err.message });
      }
      throw err;
    }
    return {
      definition: entry.definition,
      definitionVersion: entry.definitionVersion,
      trustedSigners: [...trustedSigners],
    };
  };
}

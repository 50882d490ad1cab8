import type { DataConverter } from '@temporalio/common';
import type { KeyRing } from '../core/payload-encryption';
import { EncryptionCodec } from '../core/payload-encryption';

/**
 * The one builder of the data converter every client, worker and replayer uses: with a key ring,
 * payloads (and failure messages, through the encoding failure converter) are encrypted before they
 * leave the process; without one (encryption off), the SDK's defaults.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('../core/failure-converter');

export function missionDataConverter(ring: KeyRing | undefined): DataConverter {
  if (!ring) return {};
  return { payloadCodecs: [new EncryptionCodec(ring)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

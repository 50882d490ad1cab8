import { join } from 'node:path';
import { Witness } from '../../audit/witness';
import { createWitnessServer } from '../../audit/witness-http';
import { generateCosignerKeyPair } from '../../core/cosignature';

/** An independent witness following one audit log, served on 127.0.0.1 with its own key. */
export interface TestWitness {
  url: string;
  verifierKey: string;
  close(): Promise<void>;
}

export async function startTestWitness(options: {
  /** The witness key's name, e.g. `witness.test/report`. */
  name: string;
  origin: string;
  logVerifierKey: string;
  /** Where the witness keeps its state (`witness/state.json` below it). */
  dir: string;
}): Promise<TestWitness> {
  const keys = generateCosignerKeyPair(options.name);
  const witness = await Witness.open({
    signerKey: keys.signerKey,
    logs: [{ origin: options.origin, verifierKeys: [options.logVerifierKey] }],
    statePath: join(options.dir, 'witness', 'state.json'),
  });
  const server = createWitnessServer(witness);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return { url, verifierKey: keys.verifierKey, close: () => server.close() };
}

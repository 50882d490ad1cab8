import type { Catalog } from '../catalog/catalog';
import type { TrustedSigner } from '../contract/mission';
import type { Connector } from '../connectors/connector';
import type { DecisionService } from '../policy/decision-service';
import type { ActionLedger } from '../policy/ledger';
import type { RouterDeps } from '../reasoning/router';
import type { Notifier } from './notify';

/** Ed25519 keys for execution grants: the worker signs with one and connectors accept any listed. */
export interface GrantKeys {
  signer: { privateKeyPem: string; keyId: string };
  publicKeys: Record<string, string>;
  lifetimeMs: number;
}

/** What the mission activities need from the process that hosts them (built in `workers/`). */
export interface ActivityDeps {
  catalog: Catalog;
  decisions: DecisionService;
  grants: GrantKeys;
  notifier: Notifier;
  connectors: Record<string, Connector>;
  reasoning: RouterDeps;
  /** The keys the deployment trusts to sign votes, starts and controls (each mission pins them). */
  trustedSigners: TrustedSigner[];
  /** The action ledger: executed actions, for the rolling aggregates policy reads (absent: none declared). */
  ledger?: ActionLedger;
  /** Fault injection for tests: fail once right after a write committed (proves idempotent retries). */
  faults?: { failAfterWriteOnce?: boolean };
}

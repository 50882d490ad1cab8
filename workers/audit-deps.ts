import type { AuditDeps } from '../audit/exporter';
import { openAuditStore, resolveAuditKeys, witnessEndpoints } from '../audit/setup';
import type { AuditConfig } from '../config';

/**
 * The exporter's store and keys from the audit configuration, built on first use (a worker that
 * never exports opens no store), saying so when it generated a local key pair.
 */
export function auditDepsFrom(config: AuditConfig, log: (line: string) => void = (l) => console.warn(l)) {
  let deps: Promise<AuditDeps> | undefined;
  return (): Promise<AuditDeps> =>
    (deps ??= (async () => {
      const keys = resolveAuditKeys(config);
      if (!keys.signerKey) throw new Error('audit export needs MANDATE_AUDIT_SIGNER_KEY (only a verifier key is set)');
      if (keys.local?.created) log(`audit: generated a local checkpoint key pair in ${keys.local.dir}`);
      return {
        store: await openAuditStore(config),
        signerKey: keys.signerKey,
        origin: config.origin,
        witnesses: witnessEndpoints(config),
      };
    })());
}

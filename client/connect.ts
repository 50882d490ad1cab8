import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

/** One Temporal client for a process (CLI command, service, script), with a clear error when unreachable. */
export interface ClientConnection {
  client: Client;
  close(): Promise<void>;
}

export async function connectClient(options: {
  address: string;
  namespace: string;
  /** Added to the "cannot reach" message: how to point the caller elsewhere. */
  hint?: string;
  /** Payload codec and failure converter (see `missionDataConverter`): how payloads are encrypted. */
  dataConverter?: DataConverter;
}): Promise<ClientConnection> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: options.address, connectTimeout: 5000 });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${options.address} (${(err as Error).message})${options.hint ? `; ${options.hint}` : ''}`,
    );
  }
  return {
    client: new Client({ connection, namespace: options.namespace, dataConverter: options.dataConverter }),
    close: () => connection.close().catch(() => undefined),
  };
}

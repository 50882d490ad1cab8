import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter of encrypting deployments, loaded by path (`failureConverterPath`) by
 * workers, clients and the workflow bundle: failure messages and stack traces travel as an encoded
 * payload, so the payload codec encrypts them like any other data (the cluster sees "Encoded failure").
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

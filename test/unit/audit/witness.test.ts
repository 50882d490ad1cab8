import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AuditExporter } from '../../../audit/exporter';
import { checkpointKey, cosignatureKey } from '../../../audit/log';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { verifyAuditStore } from '../../../audit/verify';
import { Witness } from '../../../audit/witness';
import { createWitnessServer } from '../../../audit/witness-http';
import { generateCosignerKeyPair, parseCosignatureVerifierKey } from '../../../core/cosignature';
import { MerkleLog, consistencyProof } from '../../../core/merkle';
import { formatCheckpoint, generateKeyPair, signNote } from '../../../core/signed-note';
import { approvedHistory as historyOf } from '../../support/fixtures';

/**
 * A witness (C2SP tlog-witness over real HTTP on 127.0.0.1) following one log: it cosigns consistent
 * checkpoints, refuses rollbacks, inconsistent checkpoints and a split view, and `audit verify` with
 * a witness policy fails a store whose latest checkpoint lacks the cosignatures.
 */
const logKeys = generateKeyPair('mandate-audit-test');
const origin = 'mandate/audit/witness-test';
const witnessKeys = generateCosignerKeyPair('witness.test/w1');
let dir: string;
let witness: Witness;
let server: FastifyInstance;
let url: string;

const exporterFor = (store: MemoryAuditStore) =>
  new AuditExporter({
    store,
    signerKey: logKeys.signerKey,
    origin,
    witnesses: [{ url, verifierKey: witnessKeys.verifierKey }],
  });
const policy = { keys: [witnessKeys.verifierKey], quorum: 1 };
const verify = (store: MemoryAuditStore) =>
  verifyAuditStore(store, { verifierKeys: [logKeys.verifierKey], origin, witnesses: policy });
const post = async (body: string) => {
  const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-witness-'));
  witness = await Witness.open({
    signerKey: witnessKeys.signerKey,
    logs: [{ origin, verifierKeys: [logKeys.verifierKey] }],
    statePath: join(dir, 'state.json'),
  });
  server = createWitnessServer(witness);
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a witness following the audit log', () => {
  const main = new MemoryAuditStore();
  let atThree: MemoryAuditStore;

  test('cosigns the first checkpoint and each consistent extension; verify checks the cosignatures', async () => {
    const exporter = exporterFor(main);
    for (const n of [1, 2]) await exporter.exportHistory(historyOf(n));
    const first = await exporter.checkpoint();
    expect(first).toMatchObject({
      size: 2,
      created: true,
      witnesses: [{ witness: 'witness.test/w1', status: 'cosigned' }],
    });
    await exporter.exportHistory(historyOf(3));
    const second = await exporter.checkpoint();
    expect(second.witnesses).toEqual([expect.objectContaining({ size: 3, status: 'cosigned' })]);
    // Asking again finds the cosignature in the store and asks nobody.
    expect((await exporter.checkpoint()).witnesses).toEqual([expect.objectContaining({ status: 'stored' })]);
    expect(witness.stateOf(origin)).toMatchObject({ size: 3 });

    const result = await verify(main);
    expect(result).toMatchObject({ ok: true, counts: { cosignatures: 2, checkpoints: 2 } });
    expect(result.latest?.witnesses).toEqual([
      {
        name: 'witness.test/w1',
        keyId: parseCosignatureVerifierKey(witnessKeys.verifierKey).keyId.toString(16).padStart(8, '0'),
        timestamp: expect.any(String),
      },
    ]);
    atThree = await MemoryAuditStore.copyOf(main);
  });

  test('refuses a rollback: an old size above the checkpoint (400) or a stale old size (409 with its size)', async () => {
    const older = main.objects.get(checkpointKey(2))!.toString();
    expect(await post(`old 3\n\n${older}`)).toMatchObject({ status: 400 });
    expect(await post(`old 2\n\n${older}`)).toEqual({ status: 409, type: 'text/x.tlog.size', text: '3\n' });
    expect(witness.stateOf(origin)?.size).toBe(3);
  });

  test('refuses an inconsistent checkpoint: a rewritten history, or the same size with another root (422)', async () => {
    // The log key signs a tree of 4 leaves whose first leaves are not the ones the witness saw.
    const leaves = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c'), Buffer.from('d')];
    const forged = new MerkleLog();
    leaves.forEach((leaf) => forged.append(leaf));
    const note = signNote(
      formatCheckpoint({ origin, size: 4, rootHash: forged.root(), extensions: ['prev 3'] }),
      logKeys.signerKey,
    );
    const proof = consistencyProof(leaves, 3).map((h) => h.toString('base64'));
    expect(await post(['old 3', ...proof, '', note].join('\n'))).toMatchObject({ status: 422 });
    const sameSize = signNote(formatCheckpoint({ origin, size: 3, rootHash: forged.root(3) }), logKeys.signerKey);
    expect(await post(`old 3\n\n${sameSize}`)).toMatchObject({ status: 422 });
    expect(readFileSync(join(dir, 'refused.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(witness.stateOf(origin)?.size).toBe(3);
  });

  test('refuses what it cannot judge: unknown origin (404), no log signature (403), malformed (400), a proof from 0 (422)', async () => {
    const body = main.objects.get(checkpointKey(3))!.toString();
    const unknown = signNote(
      formatCheckpoint({ origin: 'other/log', size: 1, rootHash: Buffer.alloc(32) }),
      logKeys.signerKey,
    );
    expect((await post(`old 0\n\n${unknown}`)).status).toBe(404);
    const stranger = generateKeyPair('mandate-audit-test');
    const unsigned = signNote(body.slice(0, body.indexOf('\n\n') + 1), stranger.signerKey);
    expect((await post(`old 3\n\n${unsigned}`)).status).toBe(403);
    expect((await post(`old 03\n\n${body}`)).status).toBe(400);
    expect((await post(`old 3\nnot-a-hash\n\n${body}`)).status).toBe(400);
    expect((await post(body)).status).toBe(400);
    const fresh = await Witness.open({
      signerKey: witnessKeys.signerKey,
      logs: [{ origin, verifierKeys: [logKeys.verifierKey] }],
      statePath: join(dir, 'fresh', 'state.json'),
    });
    expect((await fresh.addCheckpoint(`old 0\n${Buffer.alloc(32).toString('base64')}\n\n${body}`)).status).toBe(422);
  });

  test('a split view: the log signs a forked checkpoint, the witness refuses it, and verify fails the fork', async () => {
    // Two stores that agree on the first three bundles and then diverge; the log key signs both.
    const fork = await MemoryAuditStore.copyOf(atThree);
    await exporterFor(main).exportHistory(historyOf(4));
    expect((await exporterFor(main).checkpoint()).witnesses).toEqual([
      expect.objectContaining({ size: 4, status: 'cosigned' }),
    ]);
    const forkExporter = exporterFor(fork);
    await forkExporter.exportHistory(historyOf(40));
    const forked = await forkExporter.checkpoint();
    expect(forked).toMatchObject({ size: 4, created: true });
    expect(forked.witnesses).toEqual([
      expect.objectContaining({ status: 'refused', detail: expect.stringMatching(/^422/) }),
    ]);
    expect(fork.objects.get(checkpointKey(4))!.equals(main.objects.get(checkpointKey(4))!)).toBe(false);

    await expect(verify(main)).resolves.toMatchObject({ ok: true });
    const result = await verify(fork);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        subject: checkpointKey(4),
        problem: expect.stringMatching(
          /has 0 valid witness cosignature\(s\), the policy needs 1 \(missing: witness.test\/w1\)/,
        ),
      },
    ]);
    // Without a witness policy the fork would pass on the log key alone: that is what witnesses add.
    await expect(verifyAuditStore(fork, { verifierKeys: [logKeys.verifierKey], origin })).resolves.toMatchObject({
      ok: true,
    });
  });

  test('a cosignature copied onto the fork, a planted one and a bad policy are each named', async () => {
    const fork = await MemoryAuditStore.copyOf(main);
    const keyId = parseCosignatureVerifierKey(witnessKeys.verifierKey).keyId;
    const line = fork.objects.get(cosignatureKey(4, keyId))!;
    fork.objects.set(cosignatureKey(3, keyId), line); // the 4's cosignature presented as the 3's
    fork.objects.set(cosignatureKey(9, keyId), line); // for a checkpoint that does not exist
    const result = await verify(fork);
    expect(result.problems).toEqual([
      {
        subject: cosignatureKey(3, keyId),
        problem: expect.stringMatching(/is an invalid cosignature by witness.test\/w1/),
      },
      { subject: cosignatureKey(9, keyId), problem: expect.stringMatching(/checkpoint 9, which is not present/) },
    ]);
    const tooMany = await verifyAuditStore(main, {
      verifierKeys: [logKeys.verifierKey],
      witnesses: { keys: [witnessKeys.verifierKey], quorum: 2 },
    });
    expect(tooMany.problems).toEqual(
      expect.arrayContaining([
        { subject: 'witness policy', problem: 'asks for 2 cosignature(s) from 1 witness key(s)' },
      ]),
    );
  });

  test('the witness keeps its state across a restart and serves its latest checkpoint to monitors', async () => {
    const again = await Witness.open({
      signerKey: witnessKeys.signerKey,
      logs: [{ origin, verifierKeys: [logKeys.verifierKey] }],
      statePath: join(dir, 'state.json'),
    });
    expect(again.stateOf(origin)).toEqual(witness.stateOf(origin));
    const hash = createHash('sha256').update(origin).digest('hex');
    const response = await fetch(`${url}/${hash}/checkpoint`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith(`${origin}\n4\n`)).toBe(true);
    expect(text).toMatch(/\u2014 witness.test\/w1 /);
    expect((await fetch(`${url}/${'0'.repeat(64)}/checkpoint`)).status).toBe(404);
  });
});

import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissionPseudonyms } from '../../../reasoning/pseudonyms';
import { loadOrCreatePseudonymKey } from '../../../workers/deps';

describe('the worker pseudonym key', () => {
  it('is created once (0600) and read back after a restart, so a mission keeps its pseudonyms', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mandate-pk-')), 'keys', 'pseudonym-hmac.key');
    const first = loadOrCreatePseudonymKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = loadOrCreatePseudonymKey(path);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
    const before = new MissionPseudonyms(first, 'm-1', ['US']).pseudonym('name', 'Jane Doe');
    const after = new MissionPseudonyms(again, 'm-1', ['US']).pseudonym('name', 'JANE  DOE');
    expect(after).toBe(before);
    const otherWorker = loadOrCreatePseudonymKey(join(path, '..', 'other.key'));
    expect(new MissionPseudonyms(otherWorker, 'm-1', ['US']).pseudonym('name', 'Jane Doe')).not.toBe(before);
  });
});

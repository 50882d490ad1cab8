import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explain } from '../../../policy/cedar-engine';
import { MISSION_POLICY_FILES, runPolicyTests } from '../../../policy/policy-tests';

const missionsDir = join(__dirname, '..', '..', '..', 'missions');
const missions = readdirSync(missionsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(missionsDir, entry.name, MISSION_POLICY_FILES.tests)))
  .map((entry) => entry.name)
  .sort();

describe('mission policy test tables', () => {
  it('finds at least the customer-refund table', () => {
    expect(missions).toContain('customer-refund');
  });

  it.each(missions)('%s: every case decides as expected', async (mission) => {
    const report = await runPolicyTests(join(missionsDir, mission));
    const failures = report.results
      .filter((result) => !result.pass)
      .map((result) => `${result.name}\n  ${result.mismatches.join('\n  ')}\n${explain(result.actual)}`);
    expect(failures).toEqual([]);
    expect(report.results.length).toBeGreaterThan(0);
    expect(report.passed).toBe(report.results.length);
  });
});

describe('runPolicyTests', () => {
  const source = join(missionsDir, 'customer-refund');
  const dirs: string[] = [];
  /** A copy of the customer-refund mission whose test table is `cases`. */
  const missionWith = (cases: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-table-'));
    dirs.push(dir);
    for (const file of [MISSION_POLICY_FILES.policy, MISSION_POLICY_FILES.schema]) {
      copyFileSync(join(source, file), join(dir, file));
    }
    writeFileSync(join(dir, MISSION_POLICY_FILES.tests), typeof cases === 'string' ? cases : JSON.stringify(cases));
    return dir;
  };
  const firstCase = () =>
    (JSON.parse(readFileSync(join(source, MISSION_POLICY_FILES.tests), 'utf8')) as Array<{ request: unknown }>)[0];

  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('reports each mismatch with the actual decision', async () => {
    const { request } = firstCase();
    const report = await runPolicyTests(
      missionWith([
        {
          name: 'wrong',
          request,
          expect: { outcome: 'require_approval', tier: 'finance', ruleIds: ['x'], errors: true },
        },
        { name: 'right', request, expect: { outcome: 'allow' } },
      ]),
    );
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    expect(report.results[0]).toMatchObject({ name: 'wrong', pass: false, actual: { outcome: 'allow' } });
    expect(report.results[0].mismatches).toEqual([
      'outcome: expected require_approval, got allow',
      'tier: expected finance, got (none)',
      'ruleIds: expected [x], got [refund-small-auto]',
      'errors: expected some, got []',
    ]);
  });

  it('refuses a malformed table instead of passing it as a deny', async () => {
    const { request } = firstCase();
    const typo = { ...(request as object), agnet: 'x', agent: undefined };
    await expect(
      runPolicyTests(missionWith([{ name: 'typo', request: typo, expect: { outcome: 'deny' } }])),
    ).rejects.toThrow(/policy\.test\.json: malformed policy test table: 0\.request\.agent: /);
    await expect(runPolicyTests(missionWith('[{'))).rejects.toThrow(/policy\.test\.json: not valid JSON/);
  });
});

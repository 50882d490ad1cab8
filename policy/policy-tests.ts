import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { decide, loadPolicyBundle } from './cedar-engine';
import { policyRequestSchema } from './cedar-request';
import type { PolicyDecision, PolicyRequest } from './types';

/** File names inside a mission folder. */
export const MISSION_POLICY_FILES = {
  policy: 'policy.cedar',
  schema: 'policy.cedarschema',
  tests: 'policy.test.json',
} as const;

const expectationSchema = z.strictObject({
  outcome: z.enum(['allow', 'require_approval', 'deny']),
  tier: z.string().min(1).optional(),
  /** Compared as a set with the decision's ruleIds. */
  ruleIds: z.array(z.string()).optional(),
  /** true: the decision must record at least one error; false: none. */
  errors: z.boolean().optional(),
});
const tableSchema = z.array(
  z.strictObject({ name: z.string().min(1), request: policyRequestSchema, expect: expectationSchema }),
);

/** What a case in `policy.test.json` expects. */
export type PolicyTestExpectation = z.infer<typeof expectationSchema>;

/** One case of a policy test table, run. */
export interface PolicyTestResult {
  name: string;
  pass: boolean;
  /** Why it failed, one line per differing field; empty when it passed. */
  mismatches: string[];
  expected: PolicyTestExpectation;
  actual: PolicyDecision;
}

/** All cases of one mission's policy test table. */
export interface PolicyTestReport {
  mission: string;
  policyVersion: string;
  passed: number;
  failed: number;
  results: PolicyTestResult[];
}

/**
 * Loads `<missionDir>/policy.cedar` and `policy.cedarschema`, runs every case of `policy.test.json` through
 * `decide`, and reports each case with the actual decision.
 * @throws PolicyLoadError when the bundle does not load; Error when the test table is malformed.
 */
export async function runPolicyTests(
  missionDir: string,
  options: { tiers?: readonly string[] } = {},
): Promise<PolicyTestReport> {
  const path = (file: string) => join(missionDir, file);
  const [policyText, schemaText, tableText] = await Promise.all(
    Object.values(MISSION_POLICY_FILES).map((file) => readFile(path(file), 'utf8')),
  );
  const mission = basename(missionDir);
  const bundle = loadPolicyBundle({
    name: mission,
    policyText,
    schemaText,
    sourcePath: path(MISSION_POLICY_FILES.policy),
    schemaSourcePath: path(MISSION_POLICY_FILES.schema),
    tiers: options.tiers,
  });
  const table = parseTable(tableText, path(MISSION_POLICY_FILES.tests));
  const results = table.map(({ name, request, expect }) => {
    const actual = decide(bundle, request as PolicyRequest);
    const mismatches = compare(expect, actual);
    return { name, pass: mismatches.length === 0, mismatches, expected: expect, actual };
  });
  const passed = results.filter((r) => r.pass).length;
  return { mission, policyVersion: bundle.policyVersion, passed, failed: results.length - passed, results };
}

function parseTable(text: string, file: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  // Requests are checked here, not left to decide: a typo would otherwise pass as an expected deny.
  const table = tableSchema.safeParse(json);
  if (!table.success) {
    const issues = table.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`${file}: malformed policy test table: ${issues.join('; ')}`);
  }
  const names = table.data.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`${file}: duplicate case name "${duplicate}"`);
  return table.data;
}

function compare(expected: PolicyTestExpectation, actual: PolicyDecision): string[] {
  const out: string[] = [];
  if (actual.outcome !== expected.outcome) out.push(`outcome: expected ${expected.outcome}, got ${actual.outcome}`);
  if (expected.tier !== undefined && actual.tier !== expected.tier) {
    out.push(`tier: expected ${expected.tier}, got ${actual.tier ?? '(none)'}`);
  }
  if (expected.ruleIds !== undefined) {
    const want = [...new Set(expected.ruleIds)].sort().join(', ');
    const got = [...new Set(actual.ruleIds)].sort().join(', ');
    if (want !== got) out.push(`ruleIds: expected [${want}], got [${got}]`);
  }
  if (expected.errors !== undefined && expected.errors !== actual.errors.length > 0) {
    out.push(`errors: expected ${expected.errors ? 'some' : 'none'}, got ${JSON.stringify(actual.errors)}`);
  }
  return out;
}

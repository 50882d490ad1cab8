import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, CatalogError, DEFAULT_CATALOG_DIR, InvalidMissionInput } from '../../../catalog/catalog';
import { ladderFor } from '../../../core/mission';
import { playStep } from '../../../core/playbook';

const REFUND_DIR = join(DEFAULT_CATALOG_DIR, 'customer-refund');
const realDefinition = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(REFUND_DIR, 'definition.json'), 'utf8'));

/** The thrown error, failing the test when nothing was thrown. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('Catalog.load on the real missions/ folder', () => {
  const catalog = Catalog.load();

  it('loads customer-refund with its definition and playbook', () => {
    expect(catalog.types()).toContain('customer-refund');
    const entry = catalog.get('customer-refund');
    expect(entry.dir).toBe(REFUND_DIR);
    expect(entry.definition.type).toBe('customer-refund');
    expect(entry.definition.integration).toBe('enterprise-db');
    expect(entry.definition.operations).toEqual(['refunds.issue']);
    // toMatchObject: the reasoning section gains defaulted settings (failover, budget, …) of its own.
    expect(entry.definition.reasoning).toMatchObject({ provider: 'offline:playbook', maxSteps: 8 });
    // Defaults filled in by the schema.
    expect(entry.definition.limits).toEqual({ continueAsNewAfterSteps: 40 });
    expect(entry.playbook?.steps.length).toBe(5);
  });

  it('decides customer-refund with Cedar and walks two-step approval ladders', () => {
    const { definition } = catalog.get('customer-refund');
    expect(definition.decision).toEqual({ engine: 'cedar' });
    expect(definition.approval.timeoutSeconds).toBe(86400);
    expect(ladderFor(definition.approval, 'supervisor')).toEqual([
      { roles: ['supervisor'], quorum: 1, timeoutSeconds: 14400 },
      { roles: ['support-manager'], quorum: 1, timeoutSeconds: 14400 },
    ]);
    expect(ladderFor(definition.approval, 'finance')).toEqual([
      { roles: ['finance'], quorum: 2, timeoutSeconds: 86400 },
      { roles: ['finance-director'], quorum: 1, timeoutSeconds: 86400 },
    ]);
    // A tier without a ladder gets one step: its own name as role, quorum 1, the default timeout.
    expect(ladderFor(definition.approval, 'legal')).toEqual([{ roles: ['legal'], quorum: 1, timeoutSeconds: 86400 }]);
  });

  it('versions the definition with a sha256 that is stable across loads', () => {
    const version = catalog.get('customer-refund').definitionVersion;
    expect(version).toMatch(/^[0-9a-f]{64}$/);
    expect(Catalog.load().get('customer-refund').definitionVersion).toBe(version);
    expect(Catalog.load(DEFAULT_CATALOG_DIR, {}).get('customer-refund').definitionVersion).toBe(version);
  });

  it('applies overrides, which change the version', () => {
    const base = catalog.get('customer-refund');
    const shortened = Catalog.load(DEFAULT_CATALOG_DIR, {
      'customer-refund': { approval: { timeoutSeconds: 5 } },
    }).get('customer-refund');
    // An override replaces `approval` as a whole: without ladders of its own, every tier gets one step.
    expect(shortened.definition.approval).toEqual({ timeoutSeconds: 5, ladders: {} });
    expect(ladderFor(shortened.definition.approval, 'finance')).toEqual([
      { roles: ['finance'], quorum: 1, timeoutSeconds: 5 },
    ]);
    expect(shortened.definitionVersion).toMatch(/^[0-9a-f]{64}$/);
    expect(shortened.definitionVersion).not.toBe(base.definitionVersion);
    // The same override gives the same version; overrides for other types change nothing.
    expect(
      Catalog.load(DEFAULT_CATALOG_DIR, { 'customer-refund': { approval: { timeoutSeconds: 5 } } }).get(
        'customer-refund',
      ).definitionVersion,
    ).toBe(shortened.definitionVersion);
    expect(
      Catalog.load(DEFAULT_CATALOG_DIR, { 'other-type': { approval: { timeoutSeconds: 5 } } }).get('customer-refund')
        .definitionVersion,
    ).toBe(base.definitionVersion);
  });

  it('validates overrides like the definition itself', () => {
    const err = thrown(() =>
      Catalog.load(DEFAULT_CATALOG_DIR, { 'customer-refund': { approval: { timeoutSeconds: -1 } } }),
    );
    expect(err).toBeInstanceOf(CatalogError);
    expect(err.message.startsWith(`${REFUND_DIR}/definition.json with overrides: `)).toBe(true);
    expect(err.message).toContain('approval.timeoutSeconds');
  });

  it('refuses an unknown type and lists the known ones', () => {
    const err = thrown(() => catalog.get('space-launch'));
    expect(err).toBeInstanceOf(CatalogError);
    expect(err.message).toBe('unknown mission type "space-launch"; known types: ' + catalog.types().join(', '));
    expect(err.message).toContain('customer-refund');
  });

  it('has a playbook whose first step reads the case named in the input', () => {
    const playbook = catalog.get('customer-refund').playbook!;
    expect(playStep(playbook, 0, { input: { caseId: 'CASE-1001' } }).next).toEqual({
      kind: 'read',
      operation: 'cases.get',
      params: { caseId: 'CASE-1001' },
      as: 'case',
    });
  });
});

describe('Catalog.validateInput (customer-refund)', () => {
  const catalog = Catalog.load();
  const invalid = (input: unknown): string => {
    const err = thrown(() => catalog.validateInput('customer-refund', input));
    expect(err).toBeInstanceOf(InvalidMissionInput);
    expect(err.message.startsWith('invalid input for mission "customer-refund": ')).toBe(true);
    return err.message;
  };

  it('passes a valid input through, with or without the optional note', () => {
    expect(catalog.validateInput('customer-refund', { caseId: 'CASE-1001' })).toEqual({ caseId: 'CASE-1001' });
    expect(catalog.validateInput('customer-refund', { caseId: 'CASE-123456', note: 'call back' })).toEqual({
      caseId: 'CASE-123456',
      note: 'call back',
    });
  });

  it.each(['case-1001', 'CASE-12', 'CASE-1001x', ' CASE-1001', 'ORD-5001'])(
    'refuses the caseId %j, naming caseId',
    (caseId) => {
      expect(invalid({ caseId })).toMatch(/caseId: /);
    },
  );

  it('refuses a caseId of the wrong type, naming caseId', () => {
    expect(invalid({ caseId: 1001 })).toMatch(/caseId: /);
  });

  it('refuses a missing caseId, naming caseId', () => {
    expect(invalid({})).toMatch(/caseId: /);
    expect(invalid({ note: 'hi' })).toMatch(/caseId: /);
  });

  it('refuses an extra key, naming the key', () => {
    const message = invalid({ caseId: 'CASE-1001', amount: 5 });
    expect(message).toContain('amount');
    expect(message).not.toMatch(/caseId: /);
  });

  it('refuses a note longer than 500 characters, naming note', () => {
    expect(invalid({ caseId: 'CASE-1001', note: 'x'.repeat(501) })).toMatch(/note: /);
  });

  it('names every bad field at once', () => {
    const message = invalid({ caseId: 'nope', note: 7, extra: true });
    expect(message).toMatch(/caseId: /);
    expect(message).toMatch(/note: /);
    expect(message).toContain('extra');
  });

  it.each([
    ['a string', 'CASE-1001'],
    ['null', null],
    ['an array', [{ caseId: 'CASE-1001' }]],
    ['a number', 1001],
  ])('refuses an input that is %s, naming the input itself', (_label, input) => {
    expect(invalid(input)).toMatch(/: input: /);
  });

  it('refuses an unknown mission type with a CatalogError', () => {
    expect(thrown(() => catalog.validateInput('nope', { caseId: 'CASE-1001' }))).toBeInstanceOf(CatalogError);
  });
});

describe('Catalog.load on broken catalogs', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A copy of the real customer-refund folder under `root/<folder>`. */
  const copyRefund = (folder = 'customer-refund'): string => {
    const dir = join(root, folder);
    cpSync(REFUND_DIR, dir, { recursive: true });
    return dir;
  };
  const loadError = (dir = root): CatalogError => {
    const err = thrown(() => Catalog.load(dir));
    expect(err).toBeInstanceOf(CatalogError);
    return err as CatalogError;
  };

  it('loads a copy of the real folder with the same version as the real one', () => {
    copyRefund();
    writeFileSync(join(root, 'README.md'), 'files beside the type folders are ignored');
    const copy = Catalog.load(root);
    expect(copy.types()).toEqual(['customer-refund']);
    expect(copy.get('customer-refund').definitionVersion).toBe(Catalog.load().get('customer-refund').definitionVersion);
  });

  it('loads an empty folder as an empty catalog', () => {
    expect(Catalog.load(root).types()).toEqual([]);
  });

  it('loads a type without a playbook', () => {
    const dir = copyRefund();
    rmSync(join(dir, 'playbook.json'));
    expect(Catalog.load(root).get('customer-refund').playbook).toBeUndefined();
  });

  it('refuses a missing catalog folder, naming it', () => {
    const missing = join(root, 'no-such-folder');
    expect(loadError(missing).message).toBe(`mission catalog folder ${missing} does not exist`);
  });

  it('refuses a type folder without definition.json, naming the file', () => {
    mkdirSync(join(root, 'empty-type'));
    expect(loadError().message).toBe(`${join(root, 'empty-type', 'definition.json')} is missing`);
  });

  it('refuses a definition.json that is not JSON, naming the file', () => {
    const dir = copyRefund();
    writeFileSync(join(dir, 'definition.json'), '{ "type": "customer-refund", ');
    expect(loadError().message).toMatch(new RegExp(`^${escape(join(dir, 'definition.json'))} is not valid JSON: `));
  });

  it('refuses a definition.json that breaks the schema, naming the file and the field', () => {
    const dir = copyRefund();
    writeFileSync(join(dir, 'definition.json'), JSON.stringify({ ...realDefinition(), scopes: ['cases:write'] }));
    const message = loadError().message;
    expect(message.startsWith(`${dir}/definition.json: `)).toBe(true);
    expect(message).toContain('scopes');
  });

  it.each([
    ['an unknown engine', { engine: 'opa' }],
    ['rules without rules', { engine: 'rules' }],
    ['rules with an empty list', { engine: 'rules', rules: [] }],
    ['cedar with rules', { engine: 'cedar', rules: [] }],
  ])('refuses a decision with %s, naming the file and decision', (_label, decision) => {
    const dir = copyRefund();
    writeFileSync(join(dir, 'definition.json'), JSON.stringify({ ...realDefinition(), decision }));
    const message = loadError().message;
    expect(message.startsWith(`${dir}/definition.json: `)).toBe(true);
    expect(message).toContain('decision');
  });

  it('refuses a ladder step without roles or with a quorum of 0, naming the ladder', () => {
    const dir = copyRefund();
    const approval = { timeoutSeconds: 60, ladders: { supervisor: [{ roles: [], quorum: 0, timeoutSeconds: 60 }] } };
    writeFileSync(join(dir, 'definition.json'), JSON.stringify({ ...realDefinition(), approval }));
    const message = loadError().message;
    expect(message.startsWith(`${dir}/definition.json: `)).toBe(true);
    expect(message).toContain('approval.ladders.supervisor[0].roles');
    expect(message).toContain('approval.ladders.supervisor[0].quorum');
  });

  it('refuses a definition.json with an unknown key', () => {
    const dir = copyRefund();
    writeFileSync(join(dir, 'definition.json'), JSON.stringify({ ...realDefinition(), owner: 'me' }));
    const message = loadError().message;
    expect(message.startsWith(`${dir}/definition.json: `)).toBe(true);
    expect(message).toContain('owner');
  });

  it('refuses a playbook.json that is not JSON, naming the file', () => {
    const dir = copyRefund();
    writeFileSync(join(dir, 'playbook.json'), 'steps: []');
    expect(loadError().message.startsWith(`${join(dir, 'playbook.json')} is not valid JSON: `)).toBe(true);
  });

  it('refuses a playbook.json that breaks the schema, naming the file', () => {
    const dir = copyRefund();
    writeFileSync(join(dir, 'playbook.json'), JSON.stringify({ steps: [] }));
    const message = loadError().message;
    expect(message.startsWith(`${dir}/playbook.json: `)).toBe(true);
    expect(message).toContain('steps');
  });

  it('refuses a definition whose type does not match its folder, naming the file and the type', () => {
    const dir = copyRefund('refunds');
    expect(loadError().message).toBe(`${dir}/definition.json: type "customer-refund" must match its folder`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

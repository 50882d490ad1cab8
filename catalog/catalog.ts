import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { hashJson } from '../core/hash';
import { MissionDefinition } from '../core/mission';
import { Playbook } from '../core/playbook';

/** A mission type as loaded from `missions/<type>/`. */
export interface CatalogEntry {
  definition: MissionDefinition;
  /** sha256 of the canonical JSON of the effective definition. */
  definitionVersion: string;
  playbook?: Playbook;
  dir: string;
}

/** Per-type changes applied on load (tests and local stacks shorten timeouts this way). */
export type DefinitionOverrides = Record<
  string,
  Partial<Pick<z.input<typeof MissionDefinition>, 'approval' | 'limits' | 'reasoning'>>
>;

export class CatalogError extends Error {
  override name = 'CatalogError';
}

export class InvalidMissionInput extends Error {
  override name = 'InvalidMissionInput';
}

/** The default catalog folder: `missions/` at the project root. */
export const DEFAULT_CATALOG_DIR = resolve(__dirname, '..', 'missions');

/** The mission catalog: definitions and playbooks, validated once at load. */
export class Catalog {
  private constructor(private readonly entries: Map<string, CatalogEntry>) {}

  static load(dir: string = DEFAULT_CATALOG_DIR, overrides: DefinitionOverrides = {}): Catalog {
    if (!existsSync(dir)) throw new CatalogError(`mission catalog folder ${dir} does not exist`);
    const entries = new Map<string, CatalogEntry>();
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      if (!name.isDirectory()) continue;
      const entry = loadEntry(join(dir, name.name), overrides);
      if (entry.definition.type !== name.name) {
        throw new CatalogError(`${entry.dir}/definition.json: type "${entry.definition.type}" must match its folder`);
      }
      entries.set(entry.definition.type, entry);
    }
    return new Catalog(entries);
  }

  types(): string[] {
    return [...this.entries.keys()].sort();
  }

  get(type: string): CatalogEntry {
    const entry = this.entries.get(type);
    if (!entry) throw new CatalogError(`unknown mission type "${type}"; known types: ${this.types().join(', ')}`);
    return entry;
  }

  /** Validates a mission's input against its definition's schema; the error names every bad field. */
  validateInput(type: string, input: unknown): Record<string, unknown> {
    const schema = z.fromJSONSchema(this.get(type).definition.inputSchema as Parameters<typeof z.fromJSONSchema>[0]);
    const result = schema.safeParse(input);
    if (!result.success) {
      const problems = result.error.issues.map((issue) => {
        const where = issue.path.length ? issue.path.join('.') : 'input';
        return issue.code === 'unrecognized_keys' ? `${issue.message} in ${where}` : `${where}: ${issue.message}`;
      });
      throw new InvalidMissionInput(`invalid input for mission "${type}": ${problems.join('; ')}`);
    }
    return result.data as Record<string, unknown>;
  }
}

function loadEntry(dir: string, overrides: DefinitionOverrides): CatalogEntry {
  const raw = readJson(join(dir, 'definition.json'));
  const parsed = MissionDefinition.safeParse(raw);
  if (!parsed.success) throw new CatalogError(`${dir}/definition.json: ${z.prettifyError(parsed.error)}`);
  const merged = MissionDefinition.safeParse({ ...parsed.data, ...overrides[parsed.data.type] });
  if (!merged.success) {
    throw new CatalogError(`${dir}/definition.json with overrides: ${z.prettifyError(merged.error)}`);
  }
  const definition = merged.data;
  const subjectField = definition.subject?.input;
  if (subjectField !== undefined) {
    const required = (definition.inputSchema as { required?: unknown }).required;
    if (!Array.isArray(required) || !required.includes(subjectField)) {
      throw new CatalogError(
        `${dir}/definition.json: subject.input "${subjectField}" must be a required field of inputSchema`,
      );
    }
  }
  let playbook: Playbook | undefined;
  if (existsSync(join(dir, 'playbook.json'))) {
    const pb = Playbook.safeParse(readJson(join(dir, 'playbook.json')));
    if (!pb.success) throw new CatalogError(`${dir}/playbook.json: ${z.prettifyError(pb.error)}`);
    playbook = pb.data;
  }
  return { definition, definitionVersion: hashJson(definition), playbook, dir };
}

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new CatalogError(`${path} is missing`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CatalogError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

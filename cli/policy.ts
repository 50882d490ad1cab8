import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { decideProposal } from '../activities/decision-pipeline';
import { createEnterpriseDb } from '../connectors/enterprise-db';
import { DecisionService } from '../policy/decision-service';
import { explain } from '../policy/cedar-engine';
import { runPolicyTests } from '../policy/policy-tests';
import { Catalog } from '../catalog/catalog';
import { printJson, reportedFailure } from './output';

/** `mandate policy test [mission]` and `mandate policy explain <mission> --action <file>`: no Temporal needed. */
export function registerPolicyCommands(
  program: Command,
  catalogDir: () => string | undefined,
  enterpriseDb: () => string = () => '',
): void {
  const policy = program.command('policy').description('test and explain mission policies (Cedar)');
  policy
    .command('test [missionType]')
    .description("run the mission's policy.test.json table (all missions when none is named)")
    .action(async (missionType: string | undefined, _opts: unknown, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
      const catalog = Catalog.load(catalogDir());
      const types = missionType ? [catalog.get(missionType).definition.type] : catalog.types();
      let failed = 0;
      const reports = [];
      for (const type of types) {
        const entry = catalog.get(type);
        if (entry.definition.decision.engine !== 'cedar') continue;
        const report = await runPolicyTests(entry.dir);
        reports.push(report);
        failed += report.failed;
        if (json) continue;
        for (const r of report.results) {
          process.stdout.write(
            `${r.pass ? 'ok  ' : 'FAIL'}  ${type}: ${r.name}${r.pass ? '' : ` — ${r.mismatches.join('; ')}`}\n`,
          );
        }
        process.stdout.write(
          `${type}: ${report.passed} passed, ${report.failed} failed (policy ${report.policyVersion.slice(0, 12)})\n`,
        );
      }
      if (json) printJson(reports);
      if (failed) throw reportedFailure(`${failed} policy test(s) failed`, Boolean(json));
    });
  policy
    .command('explain <missionType>')
    .description(
      'decide one proposed action ({operation, params, facts?}, JSON) and say why: facts from the action file, ' +
        'else from the system of record ($MANDATE_ENTERPRISE_DB), as a mission would',
    )
    .requiredOption('--action <file|->', 'JSON file with {"operation": "...", "params": {...}}, or - for stdin')
    .option('--initiator <who>', 'on whose behalf the mission runs', 'explain@local')
    .option('--prior-actions <n>', 'actions already executed in the mission', '0')
    .option('--subject <id>', "the mission's subject (e.g. its case id), checked as a mission would")
    .action(
      (
        missionType: string,
        opts: { action: string; initiator: string; priorActions: string; subject?: string },
        cmd: Command,
      ) => {
        const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
        const catalog = Catalog.load(catalogDir());
        const definition = catalog.get(missionType).definition;
        const text = opts.action === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(opts.action), 'utf8');
        const proposed = JSON.parse(text) as {
          operation: string;
          params?: Record<string, unknown>;
          facts?: Record<string, unknown>;
        };
        const decisions = DecisionService.load(catalog);
        const request = {
          missionId: 'explain',
          initiator: opts.initiator,
          action: {
            actionId: 'a1',
            operation: proposed.operation,
            params: proposed.params ?? {},
            rationale: 'explain',
          },
          priorActions: Number(opts.priorActions),
          now: new Date(),
        };
        const db = enterpriseDb();
        let decision;
        const needed = decisions.declaredRecord(definition.type, proposed.operation, 'facts');
        if (!proposed.facts && !existsSync(db) && needed.length) {
          throw new Error(
            `the ${definition.type} policy decides ${proposed.operation} on facts from the system of record ` +
              `(${needed.join(', ')}): give them as "facts" in the action file, or set MANDATE_ENTERPRISE_DB ` +
              `(${db} does not exist)`,
          );
        }
        if (proposed.facts || !existsSync(db)) {
          decision = decisions.decide(definition, { ...request, ...(proposed.facts ? { facts: proposed.facts } : {}) });
        } else {
          const connector = createEnterpriseDb(db);
          try {
            const subject =
              opts.subject && definition.subject ? { type: definition.subject.type, id: opts.subject } : undefined;
            decision = decideProposal({ decisions, connectors: { [connector.name]: connector } }, definition, {
              ...request,
              ...(subject ? { subject } : {}),
            });
          } finally {
            connector.close();
          }
        }
        if (json) return printJson(decision);
        const facts = decision.facts ? `facts: ${JSON.stringify(decision.facts)}\n` : '';
        process.stdout.write(`${explain(decision)}\n${facts}params hash: ${decision.paramsHash}\n`);
      },
    );
}

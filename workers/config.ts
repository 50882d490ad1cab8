import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The one configuration module: read from the environment at process start by workers, the
 * approvals service and the CLI. A wrong setting stops the process with a one-line explanation.
 */
const Config = z.object({
  MANDATE_TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'host:port')
    .default('127.0.0.1:7233'),
  MANDATE_NAMESPACE: z.string().min(1).default('default'),
  MANDATE_TASK_QUEUE: z.string().min(1).default('mandate-missions'),
  MANDATE_DATA_DIR: z.string().min(1).default('.mandate'),
  /** The sample enterprise systems' SQLite file (default: <data dir>/enterprise.db). */
  MANDATE_ENTERPRISE_DB: z.string().min(1).optional(),
  MANDATE_CATALOG_DIR: z.string().min(1).optional(),
  MANDATE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  MANDATE_APPROVALS_PORT: z.coerce.number().int().min(1).max(65535).default(8780),
  MANDATE_TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
});

export interface MandateConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  dataDir: string;
  enterpriseDb: string;
  catalogDir?: string;
  logLevel: z.infer<typeof Config>['MANDATE_LOG_LEVEL'];
  approvalsPort: number;
  temporalUiPort: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MandateConfig {
  const result = Config.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`configuration error: ${issue.path.join('.')}: ${issue.message}`);
  }
  const c = result.data;
  const dataDir = resolve(c.MANDATE_DATA_DIR);
  return {
    temporalAddress: c.MANDATE_TEMPORAL_ADDRESS,
    namespace: c.MANDATE_NAMESPACE,
    taskQueue: c.MANDATE_TASK_QUEUE,
    dataDir,
    enterpriseDb: resolve(c.MANDATE_ENTERPRISE_DB ?? `${dataDir}/enterprise.db`),
    catalogDir: c.MANDATE_CATALOG_DIR ? resolve(c.MANDATE_CATALOG_DIR) : undefined,
    logLevel: c.MANDATE_LOG_LEVEL,
    approvalsPort: c.MANDATE_APPROVALS_PORT,
    temporalUiPort: c.MANDATE_TEMPORAL_UI_PORT,
  };
}

/** loadConfig for process entry points: prints the one-line explanation and exits on error. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): MandateConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, loadConfigOrExit } from '../../../config';

/** The ConfigError thrown for env, failing the test when nothing (or something else) was thrown. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults when nothing is set, ignoring unrelated variables', () => {
    const config = loadConfig({ PATH: '/usr/bin', HOME: '/home/x' });
    expect(config).toMatchObject({
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'mandate-missions', uiPort: 8233 },
      dataDir: resolve('.mandate'),
      enterpriseDb: join(resolve('.mandate'), 'enterprise.db'),
      logLevel: 'info',
      approvalsPort: 8780,
      grantKeyFile: join(resolve('.mandate'), 'keys', 'grant-ed25519.json'),
      pseudonymKeyFile: join(resolve('.mandate'), 'keys', 'pseudonym-hmac.key'),
      providers: { phoneRegions: ['US', 'GB', 'DE', 'FR'] },
      audit: { store: 'fs', dir: join(resolve('.mandate'), 'audit'), origin: 'mandate/audit/default' },
      tools: { path: '/usr/bin' },
    });
    expect(config.catalogDir).toBeUndefined();
    expect(config.notifyWebhook).toBeUndefined();
  });

  it('reads every setting, resolving paths and turning ports into numbers', () => {
    expect(
      loadConfig({
        MANDATE_TEMPORAL_ADDRESS: 'temporal.internal:7233',
        MANDATE_NAMESPACE: 'prod',
        MANDATE_TASK_QUEUE: 'refunds',
        MANDATE_DATA_DIR: '/var/lib/mandate',
        MANDATE_ENTERPRISE_DB: 'db/enterprise.sqlite',
        MANDATE_CATALOG_DIR: 'my-missions',
        MANDATE_LOG_LEVEL: 'debug',
        MANDATE_APPROVALS_PORT: '9000',
        MANDATE_TEMPORAL_UI_PORT: '65535',
        MANDATE_NOTIFY_WEBHOOK: 'https://hooks.example.com/mandate',
        MANDATE_GRANT_KEY_FILE: 'keys/grant.json',
        MANDATE_PSEUDONYM_KEY_FILE: 'keys/pseudonyms.key',
        MANDATE_PHONE_REGIONS: 'gb, ie',
      }),
    ).toMatchObject({
      temporal: { address: 'temporal.internal:7233', namespace: 'prod', taskQueue: 'refunds', uiPort: 65535 },
      dataDir: '/var/lib/mandate',
      enterpriseDb: resolve('db/enterprise.sqlite'),
      catalogDir: resolve('my-missions'),
      logLevel: 'debug',
      approvalsPort: 9000,
      notifyWebhook: 'https://hooks.example.com/mandate',
      grantKeyFile: resolve('keys/grant.json'),
      pseudonymKeyFile: resolve('keys/pseudonyms.key'),
      providers: { phoneRegions: ['GB', 'IE'] },
    });
  });

  it('refuses phone regions that are not ISO 3166 codes libphonenumber knows', () => {
    expect(configError({ MANDATE_PHONE_REGIONS: 'US,UK' }).message).toMatch(
      /MANDATE_PHONE_REGIONS\.1: expected ISO 3166 region codes such as US,GB,DE/,
    );
  });

  it('refuses a notify webhook that is not an http(s) URL', () => {
    expect(() => loadConfig({ MANDATE_NOTIFY_WEBHOOK: 'ftp://hooks.example.com/x' })).toThrow(/MANDATE_NOTIFY_WEBHOOK/);
  });

  it('puts the enterprise database in the data dir unless told otherwise', () => {
    expect(loadConfig({ MANDATE_DATA_DIR: '/srv/m' }).enterpriseDb).toBe('/srv/m/enterprise.db');
  });

  it.each([
    ['MANDATE_TEMPORAL_ADDRESS', 'localhost'],
    ['MANDATE_TEMPORAL_ADDRESS', 'localhost:port'],
    ['MANDATE_TEMPORAL_ADDRESS', 'http://localhost:7233'],
    ['MANDATE_TEMPORAL_ADDRESS', ''],
    ['MANDATE_NAMESPACE', ''],
    ['MANDATE_TASK_QUEUE', ''],
    ['MANDATE_DATA_DIR', ''],
    ['MANDATE_ENTERPRISE_DB', ''],
    ['MANDATE_CATALOG_DIR', ''],
    ['MANDATE_LOG_LEVEL', 'verbose'],
    ['MANDATE_LOG_LEVEL', 'INFO'],
    ['MANDATE_APPROVALS_PORT', 'eighty'],
    ['MANDATE_APPROVALS_PORT', '0'],
    ['MANDATE_APPROVALS_PORT', '65536'],
    ['MANDATE_APPROVALS_PORT', '80.5'],
    ['MANDATE_APPROVALS_PORT', '-1'],
    ['MANDATE_TEMPORAL_UI_PORT', 'x'],
    ['MANDATE_TEMPORAL_UI_PORT', '70000'],
  ])('refuses %s=%j with a one-line message naming the variable', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message.startsWith(`configuration error: ${name}: `)).toBe(true);
    expect(err.message.length).toBeGreaterThan(`configuration error: ${name}: `.length);
    expect(err.message).not.toContain('\n');
  });

  it('says what was expected for an address', () => {
    expect(configError({ MANDATE_TEMPORAL_ADDRESS: 'localhost' }).message).toBe(
      'configuration error: MANDATE_TEMPORAL_ADDRESS: host:port',
    );
  });

  it('reports one variable when several are wrong', () => {
    const err = configError({ MANDATE_LOG_LEVEL: 'loud', MANDATE_APPROVALS_PORT: 'x' });
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message).toMatch(/^configuration error: MANDATE_(LOG_LEVEL|APPROVALS_PORT): /);
  });
});

describe('loadConfigOrExit', () => {
  afterEach(() => jest.restoreAllMocks());

  it('returns the config when the environment is valid', () => {
    expect(loadConfigOrExit({ MANDATE_NAMESPACE: 'ns' }).temporal.namespace).toBe('ns');
  });

  it('prints the one-line explanation and exits with code 2 on a bad setting', () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as typeof process.exit);
    expect(() => loadConfigOrExit({ MANDATE_LOG_LEVEL: 'loud' })).toThrow('exit 2');
    expect(exit).toHaveBeenCalledWith(2);
    expect(printed).toHaveBeenCalledTimes(1);
    expect(printed.mock.calls[0][0]).toMatch(/^configuration error: MANDATE_LOG_LEVEL: .+$/);
  });
});

import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'process',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'worker_threads',
  'zlib',
];

/**
 * The layers of ../shared/DESIGN.md: every import points down this list. Layer 2's libraries may use
 * the catalog loader (the bottom of that layer), never each other.
 */
const LAYERS = [
  ['contract'],
  ['core'],
  ['config'],
  ['catalog'],
  ['audit', 'connectors', 'policy', 'reasoning'],
  ['activities', 'workflows'],
  ['client'],
  ['workers', 'approvals-ui'],
  ['cli'],
  ['infra'],
];
const layerZones = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return layer.map((folder) => ({
    target: `./${folder}`,
    // Same-layer folders stay apart too; workflows' type-only imports of activities are checked below.
    from: [...above, ...layer.filter((other) => other !== folder)]
      .filter((other) => !(folder === 'workflows' && other === 'activities'))
      .map((other) => `./${other}`),
    message: `${folder}/ may not import this: imports point down the layers of ../shared/DESIGN.md.`,
  }));
}).filter((zone) => zone.from.length > 0);

export default tseslint.config(
  { ignores: ['node_modules/**', '.mandate/**', 'bench/results/**', 'coverage/**', 'jest.config.js', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // Configuration is read in one place: config/ parses the environment once per process.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read settings through config/ (loadConfig), passed down.' },
      ],
    },
  },
  {
    files: ['config/**/*.ts', 'test/harness/settings.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Pure domain code: no I/O, no Temporal, no processes.
    files: ['core/**/*.ts', 'contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins.filter((m) => m !== 'crypto' && m !== 'buffer'), 'pino', 'fastify', 'better-sqlite3']
            .flatMap((m) => [m, `node:${m}`])
            .concat(['@temporalio/client', '@temporalio/worker', '@temporalio/activity'])
            .map((name) => ({ name, message: 'core/ and contract/ are pure: no I/O, no Temporal client or worker.' })),
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins,
            ...nodeBuiltins.map((m) => `node:${m}`),
            'pino',
            'openai',
            '@anthropic-ai/sdk',
            'ollama',
            'fastify',
            'better-sqlite3',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ].map((name) => ({ name, message: 'Not allowed in deterministic workflow code.' })),
          patterns: [
            {
              group: ['**/activities/*'],
              allowTypeImports: true,
              message: 'Workflows import only types from activities.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message:
            'Use workflow time deliberately (workflowInfo / Date inside the sandbox is replay-safe but say what you mean).',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Use uuid4() from @temporalio/workflow.',
        },
        {
          selector: "CallExpression[callee.name='setTimeout']",
          message: 'Use sleep() or condition() from @temporalio/workflow.',
        },
      ],
    },
  },
);

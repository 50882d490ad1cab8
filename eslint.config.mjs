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
              group: ['**/activities/*', '!**/activities/index'],
              allowTypeImports: true,
              message: 'Workflows import only types from activities.',
            },
            { group: ['**/workers/*', '**/cli/*', '**/approvals-ui/*'], message: 'Not allowed in workflow code.' },
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

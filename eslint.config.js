// ESLint flat config. The architecture rules of STYLE.md §2 are lint rules here, so a wrong
// import fails CI instead of review.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/** Folders that may not be imported from the given one (STYLE.md §2). */
const zones = [
  // Identities (src/identity) persist what policy decides; only the edge and main.ts use them.
  {
    target: './src/identity',
    from: ['./src/connectors', './src/flows', './src/api', './src/cli', './src/main.ts'],
    message: 'identity depends on domain, policy, store and audit only',
  },
  {
    target: [
      './src/domain',
      './src/formats',
      './src/policy',
      './src/connectors',
      './src/store',
      './src/events',
      './src/audit',
      './src/flows',
    ],
    from: './src/identity',
    message: 'identities are wired in by main.ts and used by the edge (api, cli), not by inner layers',
  },
  // The domain is pure: no I/O layers.
  {
    target: './src/domain',
    from: [
      './src/formats',
      './src/policy',
      './src/connectors',
      './src/store',
      './src/events',
      './src/audit',
      './src/flows',
      './src/api',
      './src/cli',
      './src/config',
      './src/main.ts',
    ],
    message: 'domain is pure: it imports nothing but the standard library and decimal/IBAN libraries',
  },
  {
    target: './src/formats',
    from: [
      './src/connectors',
      './src/store',
      './src/events',
      './src/audit',
      './src/flows',
      './src/api',
      './src/cli',
      './src/main.ts',
    ],
    message: 'formats are pure codecs: only domain',
  },
  {
    target: './src/policy',
    from: [
      './src/connectors',
      './src/store',
      './src/events',
      './src/flows',
      './src/api',
      './src/cli',
      './src/main.ts',
    ],
    message: 'policy holds pure decisions: only domain',
  },
  {
    target: './src/connectors',
    from: [
      './src/store',
      './src/events',
      './src/audit',
      './src/flows',
      './src/api',
      './src/cli',
      './src/main.ts',
    ],
    message: 'connectors implement domain ports; work across systems is a flow',
  },
  {
    target: './src/store',
    from: ['./src/connectors', './src/flows', './src/api', './src/cli', './src/main.ts'],
    message: 'store depends on domain only',
  },
  {
    target: './src/events',
    from: ['./src/connectors', './src/flows', './src/api', './src/cli', './src/main.ts'],
    message: 'events depend on domain and store only',
  },
  {
    target: './src/audit',
    from: ['./src/connectors', './src/flows', './src/api', './src/cli', './src/main.ts'],
    message: 'audit depends on domain and store only',
  },
  {
    target: './src/flows',
    from: ['./src/connectors', './src/api', './src/cli', './src/main.ts'],
    message: 'flows get adapters injected; they never import concrete connectors',
  },
  {
    target: './src/api',
    from: ['./src/connectors', './src/cli', './src/main.ts'],
    message: 'api calls flows, never connectors directly',
  },
  {
    target: './src/cli',
    from: ['./src/connectors', './src/api'],
    message: 'cli calls the same app functions as the api, through main.ts',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.kontor/**',
      'tmp/**',
      'web/dist/**',
      'bench/out/**',
      'eslint.config.js',
      'scripts/**',
      'bin/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    // Parsing bundled dependencies for cycle checks is slow and overflows on PGlite's bundle.
    settings: { 'import-x/ignore': ['node_modules'], 'import-x/extensions': ['.ts', '.js', '.mjs'] },
    rules: {
      // node:test's describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }],
    },
  },
  {
    // Pure layers may not read the clock or do I/O: time and ids are injected (STYLE.md §2).
    files: ['src/domain/**/*.ts', 'src/formats/**/*.ts', 'src/policy/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'http', 'https', 'child_process'],
              message: 'pure layer: no I/O; inject it',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'inject a Clock instead of reading Date.now()' },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'pure layer: no network I/O' }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);

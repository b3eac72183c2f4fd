import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'models/**', 'reports/**', 'workspace/**', 'src/server/public/**'] },
  {
    // the product, its tests, benches and maintenance scripts
    ignores: ['experiments/**'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    // one-off studies: parsed (so the import rules below apply), not held to the product's rules
    files: ['experiments/**/*.ts'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    languageOptions: { parser: tseslint.parser, globals: { ...globals.node } },
  },
  {
    // outside the package: only its public modules (package.json "exports"), never src/ files or test code
    // (benches may share test/helpers, e.g. the redis-server launcher; scripts and experiments may not)
    files: ['bench/**/*.ts', 'scripts/**/*.{ts,js,mjs}', 'experiments/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src', '**/src/**'], message: 'import the public modules (agegender, agegender/core, agegender/model, …) instead of src/ files' }] }],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression[source.value=/(^|\\/)src\\//]', message: 'import the public modules (agegender, agegender/<area>) instead of src/ files' }],
    },
  },
  {
    files: ['scripts/**/*.{ts,js,mjs}', 'experiments/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src', '**/src/**', '**/test/**'], message: 'import the public modules (agegender, agegender/<area>) instead of src/ or test/ files' }] }],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression[source.value=/(^|\\/)(src|test)\\//]', message: 'import the public modules (agegender, agegender/<area>) instead of src/ or test/ files' }],
    },
  },
  {
    // the library never depends on its command line
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/cli/**', '**/cli'], message: 'src/ must not import the CLI (src/cli): move what is shared into the library' }] }],
    },
  },
);

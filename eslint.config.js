// Lint rules that catch the mistakes that hurt a data pipeline: floating promises lose errors,
// `.only` silently shrinks the suite, and a plain Error escapes the handling of TributaryError
// (retriable or not, one line or a stack); a producer that is not idempotent duplicates messages.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Tests too: a test's fixture producer that duplicates a message looks like a pipeline that does. */
const PLAIN_PRODUCER = {
  selector: "CallExpression[callee.property.name='producer']",
  message:
    'Make a Kafka producer with idempotentProducer (ingest/kafka/producer.ts): kafkajs resends a whole request when one partition fails, duplicating the rest.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'stack/.cache/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only' },
        { object: 'describe', property: 'only' },
        { object: 'test', property: 'only' },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'bench/**', 'test/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/^(Error|TypeError|RangeError|SyntaxError)$/]',
          message:
            'Throw a TributaryError subclass (errors/index.ts); InvariantError for a broken assumption.',
        },
        PLAIN_PRODUCER,
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', PLAIN_PRODUCER] },
  },
);

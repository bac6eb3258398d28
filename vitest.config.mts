import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'lambdas/**/*.test.ts',
      'local/**/*.test.ts',
      'infra/**/*.test.ts',
      'bench/**/*.test.ts',
      'statemachines/**/*.test.ts',
    ],
    setupFiles: ['local/engine/polyfills.ts'],
    env: {
      CDK_VALIDATION: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
    },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

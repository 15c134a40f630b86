import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each e2e file starts its own local stack on free ports; two workers fit a 2-core machine.
    maxWorkers: 2,
    // As every function runs on Lambda (infra/bundling.ts, LAMBDA_NODE_OPTIONS): AsyncLocalStorage on AsyncContextFrame.
    execArgv: ['--experimental-async-context-frame'],
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'guest-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'GuestSync',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      // EMF lines would drown the test output; the no-PII test turns them back on to scan them.
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});

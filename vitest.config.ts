import { createRequire } from 'node:module'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// Tests whose file name has a .pg. part need PostgreSQL itself (several connections, advisory
// locks across sessions); they run when TEST_DATABASE_URL names a server, as in CI, and are not
// collected otherwise, rather than being reported as skipped. Likewise .redis. parts need Redis:
// TEST_REDIS_URL, and the redis-server binary for the tests that start and stop their own.
const postgres = Boolean(process.env.TEST_DATABASE_URL)
const redis = Boolean(process.env.TEST_REDIS_URL)
// .browser. tests drive Chromium: TEST_CHROMIUM names its executable (CI sets /usr/bin/chromium)
const browser = Boolean(process.env.TEST_CHROMIUM)

export default defineConfig({
  // JSX in the inbox's component tests
  plugins: [react()],
  resolve: {
    // graphql 16 ships CommonJS (main) and ESM (module) builds. Node, and so every dependency,
    // loads the CommonJS one; Vite would give our sources the other, and graphql refuses to mix
    // objects of two instances. Point our imports at the one Node uses.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    include: ['server/test/**/*.test.ts', 'client/src/**/*.test.{ts,tsx}', 'client/e2e/**/*.test.ts', 'sdk/test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: [
      ...(postgres ? [] : ['server/test/**/*.pg.*']),
      ...(redis ? [] : ['server/test/**/*.redis.*']),
      ...(browser ? [] : ['client/e2e/**/*.browser.*']),
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { NODE_ENV: 'test' },
  },
})

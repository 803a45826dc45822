// What every browser test file sets up: a production build of the inbox, where screenshots go,
// and Debian's Chromium driven by playwright-core.
import { spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

/** Builds the inbox into a new temporary folder, as `npm run build` does (vitest's NODE_ENV=test would make a development build). */
export async function buildClient(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'approvals-client-'))
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js')
  const built = spawnSync(process.execPath, [vite, 'build', 'client', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  })
  if (built.status !== 0) throw new Error(`vite build failed:\n${built.stderr}`)
  return outDir
}

/** Where screenshots go: a temporary folder, unless `npm run screenshots` names docs/screenshots (SCREENSHOTS_DIR). */
export async function screenshotsDir(): Promise<string> {
  return process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : mkdtemp(join(tmpdir(), 'approvals-screenshots-'))
}

/** Headless Chromium (TEST_CHROMIUM names the executable). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.TEST_CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

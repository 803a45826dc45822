// What every browser test file sets up: a production build of the inbox served by a real server,
// where screenshots go, and Debian's Chromium driven by playwright-core (useBrowserSuite).
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect } from 'vitest'
import { startServer, type StartOptions, type TestServer } from '../../server/test/harness.js'

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

export interface PageOptions {
  viewport?: { width: number; height: number }
  colorScheme?: 'light' | 'dark'
  /** HTTP statuses the test provokes on purpose: the browser logs them as errors, and they are not faults. */
  refusals?: number[]
  /** The page's timers run on a clock the test moves (page.clock): an undo window passes without waiting. */
  clock?: boolean
}

/** What a browser test file works with, once its suite has started (see useBrowserSuite). */
export interface BrowserSuite {
  /** The server, on a fresh database, serving a production build of the inbox. */
  readonly server: TestServer
  /** Where the inbox is: the server's origin. */
  readonly base: string
  /** Where screenshots go (see screenshotsDir). */
  readonly screenshots: string
  /**
   * A new page whose script errors and console errors fail the suite (checked once its tests are
   * done), with short waits so that a missing element says which.
   */
  newPage(options?: PageOptions): Promise<Page>
  /** Signs in on the page with the token, from the inbox's front door. */
  signIn(page: Page, token: string): Promise<void>
}

/**
 * The set-up every browser test file shares, registered as its first beforeAll and afterAll: a
 * production build of the inbox, a server serving it (with `server` options), Chromium; at the end,
 * that no page logged an error, then everything is closed and removed. Call it at the top of the file.
 */
export function useBrowserSuite(options: { server?: Omit<StartOptions, 'clientDir'> } = {}): BrowserSuite {
  let outDir: string | undefined
  let server: TestServer | undefined
  let browser: Browser | undefined
  let screenshots: string | undefined
  const errors: string[] = []
  beforeAll(async () => {
    outDir = await buildClient()
    screenshots = await screenshotsDir()
    server = await startServer({ ...options.server, clientDir: outDir })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    try {
      // the app logs nothing as an error while it works
      expect(errors).toEqual([])
    } finally {
      await browser?.close()
      await server?.destroy()
      if (outDir) await rm(outDir, { recursive: true, force: true })
    }
  })
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The browser suite has not started yet: ${what} is there from the tests and the file's own beforeAll on.`)
    return value
  }
  const base = () => started(server, 'the server').url.replace(/\/graphql$/, '')
  return {
    get server() {
      return started(server, 'the server')
    },
    get base() {
      return base()
    },
    get screenshots() {
      return started(screenshots, 'the screenshots folder')
    },
    async newPage({ viewport = { width: 1280, height: 860 }, colorScheme = 'light', refusals = [], clock = false }: PageOptions = {}) {
      const page = await started(browser, 'the browser').newPage({ viewport, colorScheme })
      page.setDefaultTimeout(10_000)
      if (clock) await page.clock.install()
      page.on('pageerror', (err) => errors.push(err.message))
      const refused = (text: string) => refusals.some((status) => text.includes(`status of ${status}`))
      page.on('console', (m) => m.type() === 'error' && !refused(m.text()) && errors.push(m.text()))
      return page
    },
    async signIn(page, token) {
      await page.goto(base() + '/')
      await page.getByLabel('API token').fill(token)
      await page.getByRole('button', { name: 'Sign in' }).click()
    },
  }
}

// End to end, as a reviewer and an admin use the inbox: Debian's Chromium driven by
// playwright-core against a real server on PGlite serving a fresh build of the app. Screenshots
// go to a temporary folder; `npm run screenshots` writes them to docs/screenshots for the README.
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, createAgentWithToken, createRule, createUserWithToken, startServer, type TestServer } from '../../server/test/harness.js'

let SCREENSHOTS: string
let outDir: string
let server: TestServer
let browser: Browser
let reviewer: { id: string; token: string }
let agent: { id: string; token: string }
let base: string

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'approvals-client-'))
  SCREENSHOTS = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : await mkdtemp(join(tmpdir(), 'approvals-screenshots-'))
  // a production build, as `npm run build` makes it (vitest's NODE_ENV=test would make a development one)
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js')
  const built = spawnSync(process.execPath, [vite, 'build', 'client', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  })
  if (built.status !== 0) throw new Error(`vite build failed:\n${built.stderr}`)
  server = await startServer({ clientDir: outDir })
  base = server.url.replace(/\/graphql$/, '')
  reviewer = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Outreach agent' })
  await createRule(server, {
    name: 'Outbound email',
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
    expiresAfterSeconds: 86_400,
  })
  browser = await chromium.launch({
    executablePath: process.env.TEST_CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
})
afterAll(async () => {
  // the app logs nothing as an error while it works (a bad token's 200 answer is not an error)
  expect(errors).toEqual([])
  await browser?.close()
  await server?.destroy()
  await rm(outDir, { recursive: true, force: true })
})

/** A page whose script errors fail the test, with short waits so a missing element says which. */
async function newPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
  const page = await browser.newPage({ viewport })
  page.setDefaultTimeout(10_000)
  page.on('pageerror', (err) => errors.push(err.message))
  // a refused sign-in answers 401, which the browser reports; anything else is a fault
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('status of 401') && errors.push(m.text()))
  return page
}
const errors: string[] = []

async function signIn(page: Page, token: string) {
  await page.goto(base + '/')
  await page.getByLabel('API token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** Signed in and on the inbox with its live connection up and its subscription listening on the server. */
async function signInLive(page: Page, token: string) {
  const listening = server.subscribed('approvalInbox')
  await signIn(page, token)
  await page.getByText('Live', { exact: true }).waitFor()
  await listening
}

/** requestApproval as the agent, which reads back only what a requester may (not the rule's detail). */
async function requestApproval(input: Record<string, unknown>) {
  const res = await server.gql(
    `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { id } } }`,
    { input },
    agent.token,
  )
  expect(res.errors).toBeUndefined()
  return res
}

const askToEmail = (subject: string) =>
  requestApproval({
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    params: { to: ['lead@customer.example'], subject, body: 'Hello,\n\nHere is the offer we discussed.\n\nBest' },
    summary: `Email: ${subject}`,
    context: { campaign: 'spring' },
  })

describe('the inbox in a browser', () => {
  it('refuses a bad token with a clear message', async () => {
    const page = await newPage()
    await signIn(page, 'apv_not-a-token')
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not valid/)
    await page.close()
  })

  it('shows a new request live, approves it with a comment, and the waiting agent hears it', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    await page.getByText('Nothing waits for you').waitFor()

    const asked = await askToEmail('Spring offer')
    const id = asked.data.requestApproval.request.id
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status decisionComment } }`, { id })

    // appears without a reload, and the tab title counts it
    await page.getByText('Email: Spring offer').waitFor()
    await page.waitForFunction(() => document.title === '(1) Approvals')
    await page.screenshot({ path: join(SCREENSHOTS, 'inbox.png') })

    await page.getByText('Email: Spring offer').click()
    await page.getByLabel('Email').getByText('lead@customer.example').waitFor()
    await page.getByText('Rule Outbound email').waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'request-detail.png'), fullPage: true })
    await page.getByLabel('Comment (optional)').fill('Approved, send it today')
    await page.getByRole('button', { name: /Approve/ }).click()

    await waiting.completed
    expect(waiting.events).toEqual([{ data: { approvalDecision: { status: 'APPROVED', decisionComment: 'Approved, send it today' } } }])
    await page.getByText('Nothing waits for you').waitFor()

    // the decided request, opened again: approved, and waiting for its agent (which does not run it here)
    await page.goto(`${base}/#/inbox/${encodeURIComponent(id)}`)
    await page.getByText('This request was approved by Rita Reviewer').waitFor()
    await page.getByText('Waiting for the agent to run it').waitFor()
    await page.close()
  })

  it('moves with j and k, and rejects with r', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    await askToEmail('First')
    await askToEmail('Second')
    await page.getByText('Email: Second').waitFor()
    await page.keyboard.press('j')
    await page.getByRole('heading', { name: 'Email: First' }).waitFor()
    await page.keyboard.press('j')
    await page.getByRole('heading', { name: 'Email: Second' }).waitFor()
    await page.keyboard.press('k')
    await page.getByRole('heading', { name: 'Email: First' }).waitFor()
    await page.keyboard.press('r')
    // the next request opens after a decision
    await page.getByRole('heading', { name: 'Email: Second' }).waitFor()
    await expect(page.getByText('Email: First').count()).resolves.toBe(0)
    await page.close()
  })

  it('says so when the open request is settled elsewhere, and fits a phone screen', async () => {
    const page = await newPage({ width: 390, height: 800 })
    await signInLive(page, reviewer.token)
    const asked = await askToEmail('Withdrawn soon')
    const id = asked.data.requestApproval.request.id
    await page.getByText('Email: Withdrawn soon').click()
    await page.getByRole('button', { name: /Approve/ }).waitFor()
    // the agent withdraws it while the reviewer looks at it
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id, reason: "Sent by hand") { status } }`, { id }, agent.token)
    await page.getByText('This request was cancelled by Outreach agent').waitFor()
    await page.getByText('“Sent by hand”', { exact: false }).waitFor()
    await expect(page.getByRole('button', { name: /Approve/ }).count()).resolves.toBe(0)
    // nothing wider than the screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(SCREENSHOTS, 'phone.png') })
    await page.close()
  })

  it('lists the decisions in history, filtered by status', async () => {
    const page = await newPage()
    await signIn(page, server.ownerToken)
    await page.getByRole('link', { name: 'History' }).click()
    await page.getByRole('cell', { name: 'Email: Spring offer' }).waitFor()
    await page.getByRole('checkbox', { name: 'Rejected' }).check()
    await page.getByRole('cell', { name: 'Email: First' }).waitFor()
    await expect(page.getByRole('cell', { name: 'Email: Spring offer' }).count()).resolves.toBe(0)
    await page.getByRole('checkbox', { name: 'Rejected' }).uncheck()
    await page.getByRole('row', { name: /Email: Spring offer/ }).getByText('Waiting for the agent to run it').waitFor()
    await page.getByRole('button', { name: 'Email: Spring offer' }).click()
    await page.getByText('This request was approved by Rita Reviewer').waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'history.png') })
    await page.close()
  })

  it('lets a reviewer go away from the header, naming a delegate: their pending request moves to the delegate', async () => {
    const dana = await createUserWithToken(server, { email: 'dana@example.com', name: 'Dana Delegate', roleKeys: ['member'] })
    const id = (await askToEmail('While I am away')).data.requestApproval.request.id
    const page = await newPage()
    await signIn(page, reviewer.token)
    await page.getByLabel('Available').uncheck()
    const form = page.getByRole('form', { name: 'Going away' })
    await form.getByLabel('Reviews in my place').selectOption({ label: 'Dana Delegate' })
    await form.getByRole('button', { name: 'Go away' }).click()
    await form.waitFor({ state: 'detached' })
    expect(await page.getByLabel('Available').isChecked()).toBe(false)
    const read = async () => (await server.gql(`query($id: ID!) { approvalRequest(id: $id) { reviewers { id } events { type } } }`, { id }, server.ownerToken)).data.approvalRequest
    expect(await read()).toMatchObject({ reviewers: [{ id: dana.id }], events: [{ type: 'REQUESTED' }, { type: 'DELEGATED' }] })
    const me = await server.gql(`{ viewer { principal { ... on User { available delegate { name } } } } }`, {}, reviewer.token)
    expect(me.data.viewer.principal).toEqual({ available: false, delegate: { name: 'Dana Delegate' } })
    // back again: the header's checkbox
    await page.getByLabel('Available').click()
    await page.waitForFunction(() => (document.querySelector('.availability input') as HTMLInputElement | null)?.checked === true)
    expect((await server.gql(`{ viewer { principal { ... on User { available } } } }`, {}, reviewer.token)).data.viewer.principal).toEqual({ available: true })
    await page.close()
  })
})

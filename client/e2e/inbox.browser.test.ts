// End to end, as a reviewer and an admin use the inbox: Debian's Chromium driven by
// playwright-core against a real server on PGlite serving a fresh build of the app. Screenshots
// go to a temporary folder; `npm run screenshots` writes them to docs/screenshots for the README.
import { join } from 'node:path'
import { type Page } from 'playwright-core'
import { useBrowserSuite } from './browser'
import { beforeAll, describe, expect, it } from 'vitest'
import { KEYBOARD_DWELL_MS, UNDO_MS } from '../src/lib/timing'
import { seriousViolations } from './axe'
import { collect, createAgentWithToken, createRule, createUserWithToken, type TestServer } from '../../server/test/harness.js'

const suite = useBrowserSuite()
let SCREENSHOTS: string
let server: TestServer
let reviewer: { id: string; token: string }
let agent: { id: string; token: string }
let base: string

beforeAll(async () => {
  ;({ server, base, screenshots: SCREENSHOTS } = suite)
  reviewer = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Outreach agent' })
  await createRule(server, {
    name: 'Outbound email',
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    conditions: { and: [{ '!=': [{ var: 'params.subject' }, 'internal'] }, { '==': [{ var: 'context.campaign' }, 'spring'] }] },
    primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
    expiresAfterSeconds: 86_400,
  })
})

/**
 * A page on a clock the tests move (a decision's undo window passes without waiting); a refused
 * sign-in answers 401, which the browser reports, and is no fault.
 */
const newPage = (viewport?: { width: number; height: number }) => suite.newPage({ viewport, clock: true, refusals: [401] })
const signIn = (page: Page, token: string) => suite.signIn(page, token)

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

/** A request in the inbox's list (its title also appears in announcements to screen readers). */
const inList = (page: Page, text: string) => page.locator('ol.requests').getByText(text)

/** The agent's wait for a request's decision: resolves with the final request once it is decided (sent once its undo window passed). */
function decisionOf(id: string) {
  const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status decisionComment } }`, { id })
  return waiting.completed.then(() => waiting.events[0]!.data!.approvalDecision as { status: string; decisionComment: string | null })
}

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
    await inList(page, 'Email: Spring offer').waitFor()
    await page.waitForFunction(() => document.title === '(1) Approvals')
    await page.screenshot({ path: join(SCREENSHOTS, 'inbox.png') })

    await inList(page, 'Email: Spring offer').click()
    await page.getByLabel('Email').getByText('lead@customer.example').waitFor()
    await page.getByText('Rule Outbound email').waitFor()
    // why: the rule's conditions in the builder's words, not JSONLogic
    await page.getByText("Email: subject is not 'internal', and Context: campaign is 'spring'").waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'request-detail.png'), fullPage: true })
    await page.getByLabel('Comment (optional)').fill('Approved, send it today')
    await page.getByRole('button', { name: /Approve/ }).click()
    // nothing is sent during the undo window; then it is
    await page.locator('.toast').getByText('Approved “Email: Spring offer”').waitFor()
    expect(waiting.events).toEqual([])
    await page.clock.fastForward(UNDO_MS)

    await waiting.completed
    expect(waiting.events).toEqual([{ data: { approvalDecision: { status: 'APPROVED', decisionComment: 'Approved, send it today' } } }])
    await page.getByText('Nothing waits for you').waitFor()

    // the decided request, opened again: approved, and waiting for its agent (which does not run it here)
    await page.goto(`${base}/#/inbox/${encodeURIComponent(id)}`)
    await page.getByText('This request was approved by Rita Reviewer').waitFor()
    await page.getByText('Waiting for the agent to run it').waitFor()
    // the history says where it was decided: the inbox names itself to the API
    await page.locator('ol.timeline li').filter({ hasText: 'Approved' }).getByText('Rita Reviewer in the inbox').waitFor()
    await page.close()
  })

  it('moves with j and k, and rejects with r', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const first = (await askToEmail('First')).data.requestApproval.request.id
    const firstDecided = decisionOf(first)
    await askToEmail('Second')
    await inList(page, 'Email: Second').waitFor()
    await page.keyboard.press('j')
    await page.getByRole('heading', { name: 'Email: First' }).waitFor()
    await page.keyboard.press('j')
    await page.getByRole('heading', { name: 'Email: Second' }).waitFor()
    await page.keyboard.press('k')
    await page.getByRole('heading', { name: 'Email: First' }).waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    // r asks for a reason first
    await page.keyboard.press('r')
    await page.getByLabel('Why reject it? The agent is told (optional)').fill('Not this week')
    await page.getByRole('button', { name: 'Reject', exact: true }).click()
    // the next request opens after a decision
    await page.getByRole('heading', { name: 'Email: Second' }).waitFor()
    await expect(inList(page, 'Email: First').count()).resolves.toBe(0)
    await page.clock.fastForward(UNDO_MS)
    expect(await firstDecided).toEqual({ status: 'REJECTED', decisionComment: 'Not this week' })
    await page.close()
  })

  it('says so when the open request is settled elsewhere, and fits a phone screen', async () => {
    const page = await newPage({ width: 390, height: 800 })
    await signInLive(page, reviewer.token)
    const asked = await askToEmail('Withdrawn soon')
    const id = asked.data.requestApproval.request.id
    await inList(page, 'Email: Withdrawn soon').click()
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
    // words, and the filters kept in the address: a reload shows the same view
    await page.getByLabel('Search').fill('spring')
    await page.getByRole('checkbox', { name: 'Approved' }).check()
    await page.waitForFunction(() => window.location.search === '?status=APPROVED&text=spring' && window.location.hash === '#/history')
    await page.getByRole('cell', { name: 'Email: Spring offer' }).waitFor()
    await page.reload()
    await expect(page.getByRole('checkbox', { name: 'Approved' }).isChecked()).resolves.toBe(true)
    await expect(page.getByLabel('Search').inputValue()).resolves.toBe('spring')
    await page.getByRole('cell', { name: 'Email: Spring offer' }).waitFor()
    await expect(page.getByRole('cell', { name: 'Email: First' }).count()).resolves.toBe(0)
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

  it('holding a decides at most one request, and a second tap on the request that just opened does nothing', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const ids: string[] = []
    for (const subject of ['Held 1', 'Held 2', 'Held 3']) ids.push((await askToEmail(subject)).data.requestApproval.request.id)
    const decided = decisionOf(ids[0]!)
    await inList(page, 'Email: Held 1').click()
    await page.getByRole('heading', { name: 'Email: Held 1' }).waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    // a key held down: one keydown, then the browser's auto-repeats
    await page.keyboard.down('a')
    await page.evaluate(() => {
      for (let i = 0; i < 20; i++) window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', repeat: true, bubbles: true }))
    })
    await page.keyboard.up('a')
    // the next request opens; a second tap right away is meant for the one just decided
    await page.getByRole('heading', { name: 'Email: Held 2' }).waitFor()
    await page.keyboard.press('a')
    await expect(page.locator('.toast').count()).resolves.toBe(1)
    await page.clock.fastForward(UNDO_MS)
    expect(await decided).toMatchObject({ status: 'APPROVED' })
    const pending = await server.gql(`{ approvalInbox(first: 100) { edges { node { id } } } }`, {}, reviewer.token)
    const still = pending.data.approvalInbox.edges.map((e: { node: { id: string } }) => e.node.id)
    expect(still).toEqual(expect.arrayContaining([ids[1], ids[2]]))
    await page.close()
  })

  it('keeps a request that arrives while the list is read again, when that older read lands after it', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    // the next read of the list is answered by the server at once, and reaches the page only later
    let taken!: () => void
    const readTaken = new Promise<void>((resolve) => (taken = resolve))
    let deliver!: () => void
    const delivered = new Promise<void>((resolve) => (deliver = resolve))
    let landed!: () => void
    const readLanded = new Promise<void>((resolve) => (landed = resolve))
    let held = false
    await page.route(
      '**/graphql',
      async (route) => {
        const body = route.request().postDataJSON() as { query?: string } | null
        if (held || !body?.query?.includes('query Inbox(')) return route.fallback()
        held = true
        const response = await route.fetch()
        taken()
        await delivered
        await route.fulfill({ response })
        landed()
      },
    )
    // the inbox reads its list again every minute, as a safety net
    await page.clock.fastForward(60_000)
    await readTaken
    const id = (await askToEmail('Arrived during a read')).data.requestApproval.request.id
    await inList(page, 'Email: Arrived during a read').waitFor()
    deliver()
    await readLanded
    // two frames: the page has applied the older read
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
    expect(await inList(page, 'Email: Arrived during a read').isVisible()).toBe(true)
    // decided, to leave the inbox as it was
    expect((await server.gql(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id }, reviewer.token)).errors).toBeUndefined()
    await inList(page, 'Email: Arrived during a read').waitFor({ state: 'detached' })
    await page.close()
  })

  it('undo within the window sends nothing, and brings the request back', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Maybe not')).data.requestApproval.request.id
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status } }`, { id })
    await inList(page, 'Email: Maybe not').click()
    await page.getByRole('button', { name: /Approve/ }).click()
    await page.getByRole('button', { name: 'Undo' }).click()
    await page.getByRole('heading', { name: 'Email: Maybe not' }).waitFor()
    await page.getByRole('button', { name: /Approve/ }).waitFor()
    await page.clock.fastForward(UNDO_MS * 3)
    // still pending on the server: the decision was never sent
    const res = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status events { type } } }`, { id }, server.ownerToken)
    expect(res.data.approvalRequest).toEqual({ status: 'PENDING', events: [{ type: 'REQUESTED' }] })
    expect(waiting.events).toEqual([])
    expect(await page.getByTestId('announcer').textContent()).toMatch(/Undone/)
    waiting.dispose()
    // and it is decided for real after all, to leave the inbox as it was
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    await page.getByRole('button', { name: /Approve/ }).click()
    await page.clock.fastForward(UNDO_MS)
    await inList(page, 'Email: Maybe not').waitFor({ state: 'detached' })
    await page.close()
  })

  it('a half-written comment survives the request being settled elsewhere', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Settled elsewhere')).data.requestApproval.request.id
    await inList(page, 'Email: Settled elsewhere').click()
    await page.getByLabel('Comment (optional)').fill('Please shorten the second paragraph')
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id, reason: "Sent by hand") { status } }`, { id }, agent.token)
    await page.getByText('This request was cancelled by Outreach agent').waitFor()
    await expect(page.getByLabel('Your unsent comment').inputValue()).resolves.toBe('Please shorten the second paragraph')
    await page.close()
  })

  it('every pending request is reachable past the first page, with the true count; the 30th opens in view, and j keeps the selection in view', async () => {
    const page = await newPage({ width: 1280, height: 700 })
    const before = (await server.gql(`{ approvalInboxCount }`, {}, reviewer.token)).data.approvalInboxCount as number
    const ids: string[] = []
    for (let i = 1; i <= 60; i++) ids.push((await askToEmail(`Bulk ${String(i).padStart(2, '0')}`)).data.requestApproval.request.id)
    const total = before + 60
    await signInLive(page, reviewer.token)
    await page.getByLabel('Sort').selectOption('OLDEST')
    await page.getByLabel(`${total} pending`).waitFor()
    // a search covers every pending request, not only the first page loaded
    await expect(inList(page, 'Email: Bulk 59').count()).resolves.toBe(0)
    await page.getByLabel('Search the inbox').fill('bulk 59')
    await inList(page, 'Email: Bulk 59').waitFor()
    await page.locator('.filtered').getByText(`1 of ${total} match.`).waitFor()
    await page.getByRole('button', { name: 'Show all' }).click()
    await page.getByRole('button', { name: /Show more/ }).click()
    await inList(page, 'Email: Bulk 60').waitFor()
    await expect(page.locator('ol.requests li').count()).resolves.toBe(total)
    const thirtieth = inList(page, 'Email: Bulk 30')
    await thirtieth.scrollIntoViewIfNeeded()
    await thirtieth.click()
    const heading = page.getByRole('heading', { name: 'Email: Bulk 30' })
    await heading.waitFor()
    const inView = async (selector: string) =>
      page.evaluate((sel) => {
        const r = document.querySelector(sel)!.getBoundingClientRect()
        return r.top >= 0 && r.bottom <= window.innerHeight
      }, selector)
    expect(await inView('.request h2')).toBe(true)
    for (let i = 0; i < 12; i++) await page.keyboard.press('j')
    await page.getByRole('heading', { name: 'Email: Bulk 42' }).waitFor()
    expect(await inView('ol.requests li.selected')).toBe(true)
    expect(await inView('.request h2')).toBe(true)
    await page.close()
    // leave the inbox as it was for the tests after this one
    for (const id of ids) await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id }, agent.token)
  }, 90_000)

  it('on a phone the open request is a screen of its own, with a way back and the decision in reach', async () => {
    const page = await newPage({ width: 390, height: 740 })
    await signInLive(page, reviewer.token)
    await askToEmail('On the go')
    await inList(page, 'Email: On the go').click()
    await page.getByRole('heading', { name: 'Email: On the go' }).waitFor()
    const approve = page.getByRole('button', { name: /Approve/ })
    const box = (await approve.boundingBox())!
    expect(box.y + box.height).toBeLessThanOrEqual(740)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await page.getByRole('link', { name: '← Inbox' }).click()
    await page.getByRole('heading', { name: /^Inbox/ }).waitFor()
    await page.close()
  })

  it('selects ten requests (a checkbox, or x on the open one) and approves them together, after the undo window', async () => {
    const page = await newPage({ width: 1280, height: 900 })
    await signInLive(page, reviewer.token)
    const ids: string[] = []
    for (let i = 1; i <= 10; i++) ids.push((await askToEmail(`Together ${String(i).padStart(2, '0')}`)).data.requestApproval.request.id)
    await inList(page, 'Email: Together 10').waitFor()
    for (let i = 1; i <= 9; i++) await page.getByLabel(`Select Email: Together ${String(i).padStart(2, '0')}`).check()
    // the tenth with x, while it is open
    await inList(page, 'Email: Together 10').click()
    await page.getByRole('heading', { name: 'Email: Together 10' }).waitFor()
    await page.keyboard.press('x')
    const bar = page.getByRole('group', { name: 'Selected requests' })
    await bar.getByText('10 selected').waitFor()
    await bar.getByLabel('Comment for all (optional)').fill('Batch approved')
    await bar.getByRole('button', { name: 'Approve 10' }).click()
    // asked first: none of them has been on screen long enough to count as opened
    const dialog = page.getByRole('dialog', { name: 'Approve 10 requests?' })
    await dialog.getByText('You have not opened any of them.').waitFor()
    await dialog.getByRole('button', { name: 'Approve 10' }).click()
    await page.locator('.toast').getByText('Approved “10 requests”').waitFor()
    await expect(page.locator('ol.requests').getByText('Email: Together').count()).resolves.toBe(0)
    const decided = ids.map(decisionOf)
    await page.clock.fastForward(UNDO_MS)
    for (const d of await Promise.all(decided)) expect(d).toEqual({ status: 'APPROVED', decisionComment: 'Batch approved' })
    await page.close()
  }, 60_000)

  it('a record update shows its diff, field by field, and the change of owner', async () => {
    await createRule(server, { name: 'Account updates', resourceType: 'RECORD_MUTATION', actionType: 'update_record', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const created = await server.gql(
      `mutation($i: CreateRecordInput!) { createRecord(input: $i) { record { id } } }`,
      { i: { module: 'accounts', data: { name: 'Acme', tier: 'gold', notes: 'Key account' } } },
      server.ownerToken,
    )
    const recordId = created.data.createRecord.record.id
    const owner = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    // the agent's owner is the service's owner: it may propose handing the record to Rita
    const asked = await server.gql(
      `mutation($id: ID!, $i: UpdateRecordInput!) { updateRecord(id: $id, input: $i) { approvalRequest { id } } }`,
      { id: recordId, i: { data: { tier: 'silver', notes: null, region: 'EMEA' }, ownerId: reviewer.id } },
      agent.token,
    )
    expect(asked.errors).toBeUndefined()
    expect(owner).toBeTruthy()
    const page = await newPage()
    await signInLive(page, reviewer.token)
    await page.locator('ol.requests a').filter({ hasText: 'Update an account' }).first().click()
    await page.getByRole('heading', { name: 'Update an account' }).waitFor()
    const table = page.getByRole('table', { name: 'Record changes' })
    await table.waitFor()
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').replace(/\s+/g, ' ').trim())))
    expect(rows).toEqual([
      ['tier changed', 'gold', 'silver'],
      ['notes removed', 'Key account', 'removed'],
      ['region added', 'not set', 'EMEA'],
    ])
    await page.getByText('Changes the owner:').waitFor()
    await page.getByText('Rita Reviewer', { exact: true }).first().waitFor()
    await page.close()
  })

  it('searches the inbox with /, and shows every key with ?', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const ids = [(await askToEmail('Invoice for Acme')).data.requestApproval.request.id, (await askToEmail('Newsletter')).data.requestApproval.request.id]
    await inList(page, 'Email: Newsletter').waitFor()
    await page.keyboard.press('/')
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Search the inbox')
    await page.keyboard.type('acme')
    await inList(page, 'Email: Newsletter').waitFor({ state: 'detached' })
    await expect(page.locator('ol.requests li').count()).resolves.toBe(1)
    await inList(page, 'Email: Invoice for Acme').waitFor()
    await page.keyboard.press('Escape')
    await inList(page, 'Email: Newsletter').waitFor()
    // the filters: by action, agent, person and rule
    await page.getByText('Filters', { exact: true }).click()
    await page.getByLabel('Action').selectOption('post_to_social')
    await page.getByText('No pending request matches.').waitFor()
    await page.getByLabel('Action').selectOption('send_email')
    await page.getByLabel('Agent').selectOption({ label: 'Outreach agent' })
    await inList(page, 'Email: Newsletter').waitFor()
    await page.getByRole('button', { name: 'Show all' }).click()
    await page.locator('.filtered').waitFor({ state: 'detached' })
    await page.keyboard.press('?')
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).getByText('select it, to decide several together').waitFor()
    await page.keyboard.press('?')
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'detached' })
    await page.close()
    for (const id of ids) await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id }, agent.token)
  })

  it('has no serious or critical accessibility violations on any page (axe-core), at desktop and phone widths', async () => {
    const id = (await askToEmail('Accessible')).data.requestApproval.request.id
    for (const viewport of [{ width: 1280, height: 860 }, { width: 390, height: 800 }]) {
      const page = await newPage(viewport)
      await page.goto(base + '/')
      await page.getByLabel('API token').waitFor()
      expect(await seriousViolations(page, 'body')).toEqual([])
      await signIn(page, server.ownerToken)
      await page.getByRole('heading', { name: /^Inbox/ }).waitFor()
      expect(await seriousViolations(page, 'body')).toEqual([])
      await page.goto(`${base}/#/inbox/${encodeURIComponent(id)}`)
      await page.getByRole('heading', { name: 'Email: Accessible' }).waitFor()
      expect(await seriousViolations(page, 'body')).toEqual([])
      await page.goto(`${base}/#/history`)
      await page.getByRole('heading', { name: 'History' }).waitFor()
      expect(await seriousViolations(page, 'body')).toEqual([])
      await page.goto(`${base}/#/people`)
      await page.getByRole('heading', { name: /People/ }).first().waitFor()
      expect(await seriousViolations(page, 'body')).toEqual([])
      await page.close()
    }
  }, 60_000)

  it('arrivals update the list in place: no read of the whole inbox per event', async () => {
    const page = await newPage()
    const operations: string[] = []
    page.on('request', (r) => {
      const body = r.method() === 'POST' && r.url().endsWith('/graphql') ? r.postData() : null
      const name = body && /(query|mutation) (\w+)/.exec((JSON.parse(body) as { query: string }).query)?.[2]
      if (name) operations.push(name)
    })
    await signInLive(page, reviewer.token)
    await page.getByRole('heading', { name: /^Inbox/ }).waitFor()
    const before = operations.filter((o) => o === 'Inbox').length
    const ids: string[] = []
    for (let i = 1; i <= 5; i++) ids.push((await askToEmail(`Arrival ${i}`)).data.requestApproval.request.id)
    await inList(page, 'Email: Arrival 5').waitFor()
    for (let i = 1; i <= 4; i++) await inList(page, `Email: Arrival ${i}`).waitFor()
    expect(operations.filter((o) => o === 'Inbox').length).toBe(before)
    // a request leaving (withdrawn by its agent) leaves the list the same way
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: ids[0] }, agent.token)
    await inList(page, 'Email: Arrival 1').waitFor({ state: 'detached' })
    expect(operations.filter((o) => o === 'Inbox').length).toBe(before)
    await page.close()
    for (const id of ids.slice(1)) await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id }, agent.token)
  })

  it('approve and allow similar: shows the rule first, with its conditions in the builder, then creates it and approves; the next such request needs nobody', async () => {
    const ada = await createUserWithToken(server, { email: 'ada@example.com', name: 'Ada Admin', roleKeys: ['admin'] })
    await createRule(server, { name: 'Posts', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', primaryResolver: { type: 'NAMED_USER', userId: ada.id } })
    const post = (text: string, platform = 'linkedin') => requestApproval({ resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { platform, text }, summary: `Post: ${text}` })
    const id = (await post('Our spring webinar is open')).data.requestApproval.request.id as string
    const decided = decisionOf(id)
    const page = await newPage()
    await signInLive(page, ada.token)
    await inList(page, 'Post: Our spring webinar is open').click()
    // for those who manage the rules (Rita, a reviewer, has no such button: see the edit test below)
    await page.getByRole('button', { name: 'Approve and allow similar…' }).click()
    const section = page.getByRole('region', { name: 'Approve, and allow similar requests' })
    await section.getByText('From now on, requests like this one are approved at once').waitFor()
    // prefilled: the same agent, for the same person, on the same platform; the post's text is left out (it differs each time)
    await expect(section.getByLabel('Condition 1: fact').inputValue()).resolves.toBe('requester.id')
    await expect(section.getByLabel('Condition 1: value').locator('option:checked').textContent()).resolves.toBe('Outreach agent')
    // the agent acts for its owner here: the same person
    const ownerName = (await server.gql(`{ viewer { principal { ... on User { name } } } }`, {}, server.ownerToken)).data.viewer.principal.name
    await expect(section.getByLabel('Condition 2: fact').inputValue()).resolves.toBe('onBehalfOf.id')
    await expect(section.getByLabel('Condition 2: value').locator('option:checked').textContent()).resolves.toBe(ownerName)
    await expect(section.getByLabel('Condition 3: fact').inputValue()).resolves.toBe('params.platform')
    await expect(section.getByLabel('Condition 3: value').inputValue()).resolves.toBe('linkedin')
    await expect(section.getByLabel('Condition 4: fact').count()).resolves.toBe(0)
    expect(await seriousViolations(page, '.allow-similar')).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, 'allow-similar.png'), fullPage: true })
    await section.getByRole('button', { name: 'Create this rule and approve' }).click()
    await page.locator('.toast').getByText('Approved “Post: Our spring webinar is open”').waitFor()
    await page.clock.fastForward(UNDO_MS)
    expect(await decided).toEqual({ status: 'APPROVED', decisionComment: null })
    // the rule exists, and it approves the next post like it at once; another platform still waits
    const rules = (await server.gql(`{ approvalRules { name enabled primaryResolver { type } } }`, {}, server.ownerToken)).data.approvalRules
    expect(rules).toContainEqual({ name: 'Allow: Post: Our spring webinar is open', enabled: true, primaryResolver: { type: 'AUTO_APPROVE' } })
    const status = async (res: Awaited<ReturnType<typeof post>>) =>
      (await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status } }`, { id: res.data.requestApproval.request.id }, server.ownerToken)).data.approvalRequest.status
    expect(await status(await post('Join us next week'))).toBe('APPROVED')
    const other = await post('A thread', 'x')
    expect(await status(other)).toBe('PENDING')
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: other.data.requestApproval.request.id }, agent.token)
    await page.close()
  })

  it('edits before approving: a form from the schema, the changes named, and the agent gets the edited params', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Needs a better subject')).data.requestApproval.request.id
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status edited params approvedParams } }`, { id })
    await inList(page, 'Email: Needs a better subject').click()
    await page.getByRole('button', { name: 'Edit, then approve…' }).click()
    // a reviewer who does not manage the rules cannot turn a decision into a rule
    await expect(page.getByRole('button', { name: 'Approve and allow similar…' }).count()).resolves.toBe(0)
    const form = page.getByRole('form', { name: 'Edit before approving' })
    await expect(form.getByLabel('Subject').inputValue()).resolves.toBe('Needs a better subject')
    await expect(form.getByLabel('To (comma-separated)').inputValue()).resolves.toBe('lead@customer.example')
    await form.getByRole('status').getByText('No changes yet').waitFor()
    await form.getByLabel('Subject').fill('Our spring offer, as discussed')
    await form.getByRole('status').getByText('Changes: Subject.').waitFor()
    await form.getByRole('button', { name: 'Approve with these changes' }).click()
    await page.clock.fastForward(UNDO_MS)
    await waiting.completed
    const decided = waiting.events[0]!.data!.approvalDecision
    expect(decided).toMatchObject({ status: 'APPROVED', edited: true, approvedParams: { subject: 'Our spring offer, as discussed', to: ['lead@customer.example'] } })
    expect(decided.params.subject).toBe('Needs a better subject')
    await page.close()
  })

  it("shows an MCP tool call (call_tool) with the tool's title and description and its arguments by the tool's schema, and edits them by that schema", async () => {
    await createRule(server, { name: 'MCP file writes', resourceType: 'AGENT_ACTION', actionType: 'call_tool', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const page = await newPage()
    await signInLive(page, reviewer.token)
    // what the MCP gateway sends: the call as params, the tool as its server describes it as context
    const params = { server: 'files', tool: 'write_file', arguments: { content: 'Meeting at 10', path: 'agenda.txt' } }
    const context = {
      tool: {
        server: 'files',
        name: 'write_file',
        title: 'Write a file',
        description: 'Writes text to a file of the shared folder, replacing what it held.',
        inputSchema: {
          type: 'object',
          required: ['path', 'content'],
          properties: { path: { type: 'string', title: 'File', description: 'The file, by its name in the folder.' }, content: { type: 'string', description: 'The text to write.' } },
        },
        annotations: { destructiveHint: true },
      },
      client: { name: 'claude-ai', version: '1.0.0' },
    }
    const asked = await requestApproval({ resourceType: 'AGENT_ACTION', actionType: 'call_tool', params, summary: 'files: Write a file {"path":"agenda.txt"}', context })
    const id = asked.data.requestApproval.request.id
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status edited approvedParams } }`, { id })
    await inList(page, 'files: Write a file {"path":"agenda.txt"}').click()

    const call = page.getByLabel('Tool call')
    await call.waitFor()
    await call.getByText('MCP tool of files').waitFor()
    await expect(call.locator('.tool-title').textContent()).resolves.toBe('Write a filewrite_file')
    await expect(call.getByLabel('What the tool does').textContent()).resolves.toBe('Writes text to a file of the shared folder, replacing what it held.')
    await call.getByText('Its server marks this tool as one that may change or delete things.').waitFor()
    // the arguments in the schema's order, each with its title and description
    const rows = await call.getByLabel('Arguments').locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]))
    expect(rows).toEqual([
      ['FileThe file, by its name in the folder.', 'agenda.txt'],
      ['contentThe text to write.', 'Meeting at 10'],
    ])
    // the tool is shown with the call; the rest of the context on its own
    await page.getByRole('heading', { name: 'Context' }).waitFor()
    const contextSection = page.locator('section:not(.detail)', { has: page.getByRole('heading', { name: 'Context' }) })
    await expect(contextSection.textContent()).resolves.toMatch(/^Contextclient.*claude-ai/s)
    await expect(contextSection.textContent()).resolves.not.toContain('inputSchema')
    await page.screenshot({ path: join(SCREENSHOTS, 'tool-call.png'), fullPage: true })
    expect(await seriousViolations(page, 'body')).toEqual([])

    await page.getByRole('button', { name: 'Edit, then approve…' }).click()
    const form = page.getByRole('form', { name: 'Edit before approving' })
    await expect(form.getByLabel('File').inputValue()).resolves.toBe('agenda.txt')
    await expect(form.getByLabel('Content').inputValue()).resolves.toBe('Meeting at 10')
    await form.getByLabel('Content').fill('Meeting at 11')
    await form.getByRole('status').getByText('Changes: Content.').waitFor()
    await form.getByRole('button', { name: 'Approve with these changes' }).click()
    await page.clock.fastForward(UNDO_MS)
    await waiting.completed
    expect(waiting.events[0]!.data!.approvalDecision).toEqual({
      status: 'APPROVED',
      edited: true,
      approvedParams: { server: 'files', tool: 'write_file', arguments: { path: 'agenda.txt', content: 'Meeting at 11' } },
    })
    await page.close()
  })

  it('while "Edit, then approve…" is open, only the form\'s own actions show: nothing that would approve the unedited original', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Edit me first')).data.requestApproval.request.id
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status edited approvedParams } }`, { id })
    await inList(page, 'Email: Edit me first').click()
    await page.getByRole('button', { name: 'Edit, then approve…' }).click()
    const form = page.getByRole('form', { name: 'Edit before approving' })
    await form.getByLabel('Subject').fill('Edited by the reviewer')
    await form.getByRole('status').getByText('Changes: Subject.').waitFor()
    // every button the reviewer can see and press in the decision: the form's own, and no other
    const decision = page.getByRole('region', { name: 'Request' }).locator('section.decision')
    expect(await decision.getByRole('button').allInnerTexts()).toEqual(['Approve with these changes', 'Cancel'])
    // and a key does not decide behind the form
    await page.getByRole('heading', { name: 'Email: Edit me first' }).click()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    await page.keyboard.press('a')
    await form.getByRole('button', { name: 'Approve with these changes' }).click()
    await page.locator('.toast').getByText('Approved “Email: Edit me first”').waitFor()
    await expect(page.locator('.toast').count()).resolves.toBe(1)
    await page.clock.fastForward(UNDO_MS)
    await waiting.completed
    expect(waiting.events[0]!.data!.approvalDecision).toEqual({
      status: 'APPROVED',
      edited: true,
      approvedParams: { to: ['lead@customer.example'], subject: 'Edited by the reviewer', body: 'Hello,\n\nHere is the offer we discussed.\n\nBest' },
    })
    await page.close()
  })

  it('r opens the reason field without typing an r into it: the agent is told exactly the reason written', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Reason by keyboard')).data.requestApproval.request.id
    const decided = decisionOf(id)
    await inList(page, 'Email: Reason by keyboard').click()
    await page.getByRole('heading', { name: 'Email: Reason by keyboard' }).waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    await page.keyboard.press('r')
    const reason = page.getByLabel('Why reject it? The agent is told (optional)')
    await reason.waitFor()
    await page.waitForFunction(() => document.activeElement?.id === 'comment')
    await page.keyboard.type('Not this week.')
    await expect(reason.inputValue()).resolves.toBe('Not this week.')
    await page.keyboard.press('Control+Enter')
    await page.locator('.toast').getByText('Rejected “Email: Reason by keyboard”').waitFor()
    await page.clock.fastForward(UNDO_MS)
    expect(await decided).toEqual({ status: 'REJECTED', decisionComment: 'Not this week.' })
    await page.close()
  })

  it('while the keys help or a menu is open, a and r decide nothing; once closed, a approves', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Behind the help')).data.requestApproval.request.id
    const decided = decisionOf(id)
    await inList(page, 'Email: Behind the help').click()
    const heading = page.getByRole('heading', { name: 'Email: Behind the help' })
    await heading.waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    // the keys help
    await page.keyboard.press('?')
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    await help.waitFor()
    await page.keyboard.press('a')
    await page.keyboard.press('r')
    // ? closes it: the keys before it have been handled by then
    await page.keyboard.press('?')
    await help.waitFor({ state: 'detached' })
    // the notifications menu in the header
    await page.getByText('Notifications', { exact: true }).click()
    await page.getByLabel('Email me requests to decide').waitFor()
    await page.keyboard.press('a')
    await page.keyboard.press('r')
    await page.getByText('Notifications', { exact: true }).click()
    await page.getByLabel('Email me requests to decide').waitFor({ state: 'hidden' })
    // nothing was decided, nor was a reason asked for
    await expect(page.locator('.toast').count()).resolves.toBe(0)
    await expect(page.getByLabel('Why reject it? The agent is told (optional)').count()).resolves.toBe(0)
    expect(await heading.isVisible()).toBe(true)
    // with nothing open, a approves it
    await heading.click()
    await page.keyboard.press('a')
    await page.locator('.toast').getByText('Approved “Email: Behind the help”').waitFor()
    await page.clock.fastForward(UNDO_MS)
    expect(await decided).toEqual({ status: 'APPROVED', decisionComment: null })
    await page.close()
  })

  it('before a decision on several, shows what will be decided, naming those never opened and the risky ones, and asks to confirm', async () => {
    for (const [name, actionType, conditions] of [
      ['Tool calls for Rita', 'call_tool', null],
      ['Pages', 'create_landing_page', null],
      ['Deals', 'update_record', null],
      ['Mastodon posts', 'post_to_social', { '==': [{ var: 'params.platform' }, 'mastodon'] }],
    ] as const) {
      await createRule(server, {
        name,
        resourceType: actionType === 'update_record' ? 'RECORD_MUTATION' : 'AGENT_ACTION',
        actionType,
        conditions,
        priority: 50,
        primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
      })
    }
    const tool = (server: string, name: string, title: string, args: Record<string, unknown>, annotations: Record<string, boolean>) =>
      requestApproval({
        resourceType: 'AGENT_ACTION',
        actionType: 'call_tool',
        params: { server, tool: name, arguments: args },
        summary: `${server}: ${title}`,
        context: { tool: { server, name, title, inputSchema: { type: 'object' }, annotations } },
      })
    const ids = [
      (await askToEmail('Looked at')).data.requestApproval.request.id,
      (await askToEmail('Never looked at')).data.requestApproval.request.id,
      (await tool('files', 'delete_file', 'Delete a file', { path: 'agenda.txt' }, { destructiveHint: true })).data.requestApproval.request.id,
      (await tool('billing', 'create_invoice', 'Create an invoice', { customer: 'Acme', amount: 1200, currency: 'EUR' }, { destructiveHint: false })).data.requestApproval.request.id,
      (await requestApproval({ resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', params: { title: 'Spring', slug: 'spring' }, summary: 'Publish: Spring' })).data
        .requestApproval.request.id,
      (await requestApproval({ resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { platform: 'mastodon', text: 'Hello' }, summary: 'Post: Hello' })).data
        .requestApproval.request.id,
    ]
    const ownerName = (await server.gql(`{ viewer { principal { ... on User { name } } } }`, {}, server.ownerToken)).data.viewer.principal.name
    const deal = await server.gql(`mutation($i: CreateRecordInput!) { createRecord(input: $i) { record { id } } }`, { i: { module: 'deals', data: { name: 'Big deal' } } }, server.ownerToken)
    const update = await server.gql(
      `mutation($id: ID!, $i: UpdateRecordInput!) { updateRecord(id: $id, input: $i) { approvalRequest { id } } }`,
      { id: deal.data.createRecord.record.id, i: { data: { stage: 'won' }, ownerId: reviewer.id } },
      agent.token,
    )
    expect(update.errors).toBeUndefined()
    ids.push(update.data.updateRecord.approvalRequest.id)
    const titles = ['Email: Looked at', 'Email: Never looked at', 'files: Delete a file', 'billing: Create an invoice', 'Publish: Spring', 'Post: Hello', 'Update a deal']

    const page = await newPage({ width: 1280, height: 900 })
    await signInLive(page, reviewer.token)
    for (const title of titles) await inList(page, title).waitFor()
    // the reviewer looks at one of them
    await inList(page, 'Email: Looked at').click()
    await page.getByRole('heading', { name: 'Email: Looked at' }).waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    for (const title of titles) await page.getByLabel(`Select ${title}`).check()
    const bar = page.getByRole('group', { name: 'Selected requests' })
    await bar.getByText('7 selected').waitFor()
    await bar.getByRole('button', { name: 'Approve 7' }).click()

    const dialog = page.getByRole('dialog', { name: 'Approve 7 requests?' })
    await dialog.waitFor()
    await dialog.getByText('You have not opened 6 of them.').waitFor()
    await dialog.getByText('5 of them carry a risk: look at them first.').waitFor()
    const listed = await dialog.getByRole('list', { name: 'Requests to approve' }).locator(':scope > li').evaluateAll((lis) =>
      Object.fromEntries(lis.map((li) => [li.querySelector('a')?.textContent, [...li.querySelectorAll('.notes > li')].map((n) => n.textContent)])),
    )
    expect(listed).toEqual({
      'files: Delete a file': ['Its server marks the tool as destructive: it may change or delete things', 'Not opened'],
      'billing: Create an invoice': ['Money: amount 1200 EUR', 'Not opened'],
      'Publish: Spring': ['Public: publishes the page /spring', 'Not opened'],
      'Post: Hello': ['Public: posts on mastodon', 'Not opened'],
      'Update a deal': [`Changes the owner: ${ownerName} → Rita Reviewer`, 'Not opened'],
      'Email: Never looked at': ['Not opened'],
      'Email: Looked at': [],
    })
    await page.screenshot({ path: join(SCREENSHOTS, 'bulk-confirm.png') })
    expect(await seriousViolations(page, 'dialog')).toEqual([])
    // the safe answer has the focus, and a key decides nothing behind the dialog
    await expect(dialog.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === document.activeElement)).resolves.toBe(true)
    await page.keyboard.press('a')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    await expect(page.locator('.toast').count()).resolves.toBe(0)
    await bar.getByText('7 selected').waitFor()

    // asked again, and confirmed: all seven are approved, after the undo window
    const decided = ids.map(decisionOf)
    await bar.getByRole('button', { name: 'Approve 7' }).click()
    await dialog.getByRole('button', { name: 'Approve 7' }).click()
    await page.locator('.toast').getByText('Approved “7 requests”').waitFor()
    await page.clock.fastForward(UNDO_MS)
    for (const d of await Promise.all(decided)) expect(d).toMatchObject({ status: 'APPROVED' })
    await page.close()
  }, 60_000)

  it('while "Edit, then approve…" is open, j and k leave the request and its edit on screen; Escape leaves the form; Enter alone sends nothing, Ctrl+Enter approves the edit', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Keep my edit')).data.requestApproval.request.id
    const other = (await askToEmail('Next in line')).data.requestApproval.request.id
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status edited approvedParams } }`, { id })
    await inList(page, 'Email: Next in line').waitFor()
    await inList(page, 'Email: Keep my edit').click()
    const heading = page.getByRole('heading', { name: 'Email: Keep my edit' })
    await heading.waitFor()
    const form = page.getByRole('form', { name: 'Edit before approving' })
    const subject = form.getByLabel('Subject')
    await page.getByRole('button', { name: 'Edit, then approve…' }).click()
    await subject.fill('My edit, kept')
    await form.getByRole('status').getByText('Changes: Subject.').waitFor()
    // reading on, out of the field, the reviewer presses j, then k: each opened another request, and the edit was gone
    await heading.click()
    await page.keyboard.press('j')
    await page.keyboard.press('k')
    // the keys' help, opened after them (so they have been handled); Escape closes only the help
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    await page.keyboard.press('?')
    await help.waitFor()
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'detached' })
    await expect(form.count()).resolves.toBe(1)
    expect(await heading.isVisible()).toBe(true)
    await expect(subject.inputValue()).resolves.toBe('My edit, kept')
    await form.getByRole('status').getByText('Changes: Subject.').waitFor()
    // Escape leaves the form, as its Cancel does; then the keys move again
    await page.keyboard.press('Escape')
    await form.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Edit, then approve…' }).waitFor()
    await page.keyboard.press('j')
    await page.getByRole('heading', { name: 'Email: Next in line' }).waitFor()
    await page.keyboard.press('k')
    await heading.waitFor()
    // Enter alone, as at the end of a field, sends nothing; Ctrl+Enter approves with the changes, as the form's button says
    await page.getByRole('button', { name: 'Edit, then approve…' }).click()
    await subject.fill('My edit, sent')
    await form.getByRole('status').getByText('Changes: Subject.').waitFor()
    await subject.press('Enter')
    await expect(page.locator('.toast').count()).resolves.toBe(0)
    await expect(form.count()).resolves.toBe(1)
    await subject.press('Control+Enter')
    await page.locator('.toast').getByText('Approved “Email: Keep my edit”').waitFor()
    await expect(page.locator('.toast').count()).resolves.toBe(1)
    await page.clock.fastForward(UNDO_MS)
    await waiting.completed
    expect(waiting.events[0]!.data!.approvalDecision).toEqual({
      status: 'APPROVED',
      edited: true,
      approvedParams: { to: ['lead@customer.example'], subject: 'My edit, sent', body: 'Hello,\n\nHere is the offer we discussed.\n\nBest' },
    })
    await page.close()
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: other }, agent.token)
  })

  it('while the reason for a rejection is asked, a does not approve, nor do r, j or k act: the request stays pending and its agent hears only the rejection; Escape leaves the reason', async () => {
    const page = await newPage()
    await signInLive(page, reviewer.token)
    const id = (await askToEmail('Being rejected')).data.requestApproval.request.id
    const other = (await askToEmail('Next to reject')).data.requestApproval.request.id
    const decided = decisionOf(id)
    await inList(page, 'Email: Next to reject').waitFor()
    await inList(page, 'Email: Being rejected').click()
    const heading = page.getByRole('heading', { name: 'Email: Being rejected' })
    await heading.waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    await page.keyboard.press('r')
    const reason = page.getByLabel('Why reject it? The agent is told (optional)')
    await reason.waitFor()
    await page.waitForFunction(() => document.activeElement?.id === 'comment')
    await page.keyboard.type('Wrong list.')
    // out of the field (reading the request again): a approved it, with the reason as the approval's comment
    await heading.click()
    await page.keyboard.press('a')
    await page.keyboard.press('r')
    await page.keyboard.press('j')
    await page.keyboard.press('k')
    // the keys' help, opened after them: by then they have been handled
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    await page.keyboard.press('?')
    await help.waitFor()
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'detached' })
    // nothing decided: no toast, the reason still asked with what was typed, the request still pending
    await expect(page.locator('.toast').count()).resolves.toBe(0)
    expect(await heading.isVisible()).toBe(true)
    await expect(reason.inputValue()).resolves.toBe('Wrong list.')
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status } }`, { id }, server.ownerToken)
    expect(read.data.approvalRequest.status).toBe('PENDING')
    // the rejection, sent from its field with Ctrl+Enter: the first and only decision its agent hears
    await reason.focus()
    await page.keyboard.press('Control+Enter')
    await page.locator('.toast').getByText('Rejected “Email: Being rejected”').waitFor()
    await expect(page.locator('.toast').count()).resolves.toBe(1)
    await page.clock.fastForward(UNDO_MS)
    expect(await decided).toEqual({ status: 'REJECTED', decisionComment: 'Wrong list.' })
    // on the next request, Escape in the reason's field leaves it: no reason asked, the decision's buttons back, the focus on the request
    await page.getByRole('heading', { name: 'Email: Next to reject' }).waitFor()
    await page.clock.fastForward(KEYBOARD_DWELL_MS)
    await page.keyboard.press('r')
    await reason.waitFor()
    await page.waitForFunction(() => document.activeElement?.id === 'comment')
    await page.keyboard.press('Escape')
    await page.getByLabel('Comment (optional)').waitFor()
    await page.getByRole('button', { name: /^Approve/ }).first().waitFor()
    await page.waitForFunction(() => document.activeElement?.textContent === 'Email: Next to reject')
    await page.close()
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: other }, agent.token)
  })

  it('while "Approve and allow similar…" is open, j and k leave the request and its rule on screen; Enter in its fields creates nothing, Ctrl+Enter creates the rule and approves; Escape leaves it', async () => {
    const alan = await createUserWithToken(server, { email: 'alan@example.com', name: 'Alan Admin', roleKeys: ['admin'] })
    await createRule(server, {
      name: 'Autumn emails',
      resourceType: 'AGENT_ACTION',
      actionType: 'send_email',
      conditions: { '==': [{ var: 'context.campaign' }, 'autumn'] },
      priority: 60,
      primaryResolver: { type: 'NAMED_USER', userId: alan.id },
    })
    const ask = async (subject: string) =>
      (
        await requestApproval({
          resourceType: 'AGENT_ACTION',
          actionType: 'send_email',
          params: { to: ['lead@customer.example'], subject, body: 'Hello' },
          summary: `Email: ${subject}`,
          context: { campaign: 'autumn' },
        })
      ).data.requestApproval.request.id as string
    const id = await ask('Autumn offer')
    const other = await ask('Autumn follow-up')
    const decided = decisionOf(id)
    const page = await newPage()
    await signInLive(page, alan.token)
    await inList(page, 'Email: Autumn follow-up').waitFor()
    await inList(page, 'Email: Autumn offer').click()
    const heading = page.getByRole('heading', { name: 'Email: Autumn offer' })
    await heading.waitFor()
    await page.getByRole('button', { name: 'Approve and allow similar…' }).click()
    const section = page.getByRole('region', { name: 'Approve, and allow similar requests' })
    const name = section.getByLabel('Name', { exact: true })
    await name.fill('Autumn emails need nobody')
    // out of the rule's fields, j and k: each opened another request, and the rule was gone
    await heading.click()
    await page.keyboard.press('j')
    await page.keyboard.press('k')
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    await page.keyboard.press('?')
    await help.waitFor()
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'detached' })
    await expect(section.count()).resolves.toBe(1)
    expect(await heading.isVisible()).toBe(true)
    await expect(name.inputValue()).resolves.toBe('Autumn emails need nobody')
    // Enter in a field, as at the end of a line, creates nothing (it would have been named so); Ctrl+Enter does what the button says
    await name.press('Enter')
    await name.fill('Autumn emails, checked')
    await name.press('Control+Enter')
    await page.locator('.toast').getByText('Approved “Email: Autumn offer”').waitFor()
    await expect(page.locator('.toast').count()).resolves.toBe(1)
    const rules = (await server.gql(`{ approvalRules { name primaryResolver { type } } }`, {}, server.ownerToken)).data.approvalRules as { name: string }[]
    expect(rules.filter((r) => r.name.startsWith('Autumn emails')).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'Autumn emails', primaryResolver: { type: 'NAMED_USER' } },
      { name: 'Autumn emails, checked', primaryResolver: { type: 'AUTO_APPROVE' } },
    ])
    await page.clock.fastForward(UNDO_MS)
    expect(await decided).toEqual({ status: 'APPROVED', decisionComment: null })
    // the next request opens; its "allow similar", left with Escape, is gone, and the focus is on the request
    await page.getByRole('heading', { name: 'Email: Autumn follow-up' }).waitFor()
    await page.getByRole('button', { name: 'Approve and allow similar…' }).click()
    await section.waitFor()
    await page.keyboard.press('Escape')
    await section.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Approve and allow similar…' }).waitFor()
    await page.waitForFunction(() => document.activeElement?.textContent === 'Email: Autumn follow-up')
    await page.close()
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: other }, agent.token)
  })
})

// End to end, as an approval manager uses the rule editor: Debian's Chromium driven by
// playwright-core against a real server on PGlite serving a fresh build of the app. Screenshots
// go to a temporary folder; `npm run screenshots` writes them to docs/screenshots for the README.
import { join } from 'node:path'
import { type Locator, type Page } from 'playwright-core'
import { useBrowserSuite } from './browser'
import { beforeAll, describe, expect, it } from 'vitest'
import { seriousViolations } from './axe'
import { UNDO_MS } from '../src/lib/timing'
import { createAgentWithToken, createRule, createUserWithToken, type TestServer } from '../../server/test/harness.js'

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
    primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
    expiresAfterSeconds: 86_400,
  })
})

/** A page tall enough for the rule editor; `refusals`: the HTTP statuses the test provokes on purpose. */
const newPage = ({ refusals = [] as number[], viewport = { width: 1280, height: 1000 } } = {}) => suite.newPage({ refusals, viewport })

/** Signed in as the owner (approval:manage), on the rules list. */
async function openRules(page: Page) {
  await page.goto(base + '/')
  await page.getByLabel('API token').fill(server.ownerToken)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('link', { name: 'Rules' }).click()
  await page.getByRole('region', { name: 'Rules' }).getByRole('link', { name: 'Outbound email' }).waitFor()
}

async function newRule(page: Page, name: string): Promise<Locator> {
  await page.getByRole('link', { name: 'New rule' }).click()
  const editor = page.getByRole('form', { name: 'New rule' })
  await editor.getByLabel('Name').fill(name)
  return editor
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

const savedRule = async (name: string) => {
  const res = await server.gql(
    `{ approvalRules { id name enabled conditions expiresAfterSeconds escalateAfterSeconds onExpiry requiredApprovals allowEdit nextStages { escalateAfterSeconds requiredApprovals } } }`,
    {},
    server.ownerToken,
  )
  return res.data.approvalRules.find((r: { name: string }) => r.name === name)
}

describe('the rule editor in a browser', () => {
  it('lets an admin create a rule with a condition in the builder, which then gates matching requests', async () => {
    const page = await newPage()
    await openRules(page)
    const editor = await newRule(page, 'Posts to X')
    await editor.getByLabel('Action').selectOption('post_to_social')
    await editor.getByRole('button', { name: 'Add a condition' }).click()
    await editor.getByLabel('Condition 1: fact').selectOption('params.platform')
    await editor.getByLabel('Condition 1: value').fill('x')
    await editor.getByLabel('Reviewer type').selectOption('NAMED_USER')
    await editor.getByLabel('Reviewer user').selectOption({ label: 'Rita Reviewer (rita@example.com)' })
    await page.screenshot({ path: join(SCREENSHOTS, 'rule-editor.png'), fullPage: true })
    await editor.getByRole('button', { name: 'Create rule' }).click()
    await page.getByRole('link', { name: 'Posts to X' }).waitFor()

    const post = (platform: string) =>
      requestApproval({ resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { platform, text: 'Launch day!' } })
    expect((await post('x')).data.requestApproval.approvalRequired).toBe(true)
    expect((await post('linkedin')).data.requestApproval.approvalRequired).toBe(false)
    const saved = await savedRule('Posts to X')
    expect(JSON.stringify(saved.conditions)).toMatch(/"params\.platform"\},"x"\]/)
    await page.close()
  })

  it('takes durations in minutes, hours and days, saves them as seconds, and shows them so again', async () => {
    const page = await newPage()
    await openRules(page)
    const editor = await newRule(page, 'Timed email')
    await editor.getByLabel('Hand to the fallback after', { exact: true }).fill('2')
    await editor.getByLabel('Hand to the fallback after (unit)', { exact: true }).selectOption('hours')
    await editor.getByLabel('Expires after', { exact: true }).fill('3')
    await editor.getByLabel('Expires after (unit)', { exact: true }).selectOption('days')
    await editor.getByRole('button', { name: 'Add a stage' }).click()
    await editor.getByLabel('Stage 2: approvals needed').fill('2')
    await editor.getByLabel('Stage 2: hand to the fallback after', { exact: true }).fill('30')
    await editor.getByLabel('Stage 2: hand to the fallback after (unit)', { exact: true }).selectOption('minutes')
    await editor.getByLabel('Reviewers may edit the parameters before approving').uncheck()
    await editor.getByLabel('When nobody decides before it expires').selectOption('APPROVE')
    await editor.getByRole('button', { name: 'Create rule' }).click()
    await page.getByRole('link', { name: 'Timed email' }).waitFor()

    expect(await savedRule('Timed email')).toMatchObject({
      escalateAfterSeconds: 7200,
      expiresAfterSeconds: 259_200,
      onExpiry: 'APPROVE',
      allowEdit: false,
      nextStages: [{ escalateAfterSeconds: 1800, requiredApprovals: 2 }],
    })
    await page.getByRole('listitem').filter({ hasText: 'Timed email' }).getByText('expires after 3 days, then approved').waitFor()

    await page.getByRole('link', { name: 'Timed email' }).click()
    const again = page.getByRole('form', { name: 'Edit Timed email' })
    expect(await again.getByLabel('Hand to the fallback after', { exact: true }).inputValue()).toBe('2')
    expect(await again.getByLabel('Hand to the fallback after (unit)', { exact: true }).inputValue()).toBe('hours')
    expect(await again.getByLabel('Expires after', { exact: true }).inputValue()).toBe('3')
    expect(await again.getByLabel('Expires after (unit)', { exact: true }).inputValue()).toBe('days')
    expect(await again.getByLabel('Stage 2: hand to the fallback after', { exact: true }).inputValue()).toBe('30')
    expect(await again.getByLabel('Stage 2: hand to the fallback after (unit)', { exact: true }).inputValue()).toBe('minutes')
    await page.close()
  })

  it('warns that an automatic approval as fallback runs the action without anyone saying yes', async () => {
    const page = await newPage()
    await openRules(page)
    const editor = await newRule(page, 'Fallback check')
    const warnings = editor.getByText('No one approves these.')
    await expect(warnings.count()).resolves.toBe(0)

    const fallback = editor.getByLabel('Fallback type')
    await fallback.selectOption('AUTO_APPROVE')
    await warnings.first().waitFor()
    // the choice itself carries the warning for a screen reader
    const describedBy = await fallback.getAttribute('aria-describedby')
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toMatch(/runs without anyone saying yes/)
    await fallback.selectOption('')
    await warnings.first().waitFor({ state: 'detached' })

    // the reviewer approving automatically is a choice, not a fallback: a hint, no warning
    await editor.getByLabel('Reviewer type').selectOption('AUTO_APPROVE')
    await editor.getByText('Nobody is asked').waitFor()
    await expect(warnings.count()).resolves.toBe(0)

    // a later stage's fallback too
    await editor.getByRole('button', { name: 'Add a stage' }).click()
    const stage = editor.getByRole('group', { name: 'Stage 2', exact: true })
    await stage.getByLabel('Stage 2 fallback type').selectOption('AUTO_APPROVE')
    await stage.getByText('No one approves these.').waitFor()
    await page.close()
  })

  it('tests the unsaved draft on a sample: whether it would gate it, and against which saved rule', async () => {
    // the bad sample at the end is answered 400
    const page = await newPage({ refusals: [400] })
    await openRules(page)
    const editor = await newRule(page, 'Quarterly reports')
    await editor.getByRole('button', { name: 'Add a condition' }).click()
    await editor.getByLabel('Condition 1: fact').selectOption('params.subject')
    await editor.getByLabel('Condition 1: value').fill('Quarterly report')

    const panel = page.getByRole('region', { name: 'Test this draft' })
    const sample = panel.getByLabel('Sample parameters (JSON)')
    // starts from what the action type accepts
    expect(JSON.parse(await sample.inputValue())).toEqual({ to: 'someone@example.com', subject: 'example', body: 'example' })
    const result = panel.getByRole('status')
    const test = async (subject: string) => {
      await sample.fill(JSON.stringify({ to: 'board@example.com', subject, body: 'Attached.' }))
      await panel.getByRole('button', { name: 'Test the draft' }).click()
    }
    await test('Quarterly report')
    await result.getByText('Would gate this sample').waitFor()
    // with conditions, the draft outranks the saved rule of equal priority without any
    await result.getByText('This rule ranks above “Outbound email”').waitFor()

    await test('Lunch on Friday')
    await result.getByText('Would not gate this sample: the conditions do not hold for it. “Outbound email” gates it instead.').waitFor()

    // the draft as edited now, not as it was: another condition value holds for the sample
    await editor.getByLabel('Condition 1: value').fill('Lunch on Friday')
    await result.getByText('changed since').waitFor()
    await panel.getByRole('button', { name: 'Test the draft' }).click()
    await result.getByText('Would gate this sample').waitFor()

    // a bad sample is answered with the API's reason
    await sample.fill(JSON.stringify({ to: 'not an address', subject: 'x', body: 'y' }))
    await panel.getByRole('button', { name: 'Test the draft' }).click()
    await result.getByText('params/to').waitFor()

    // nothing was saved
    expect(await savedRule('Quarterly reports')).toBeUndefined()
    await page.close()
  })

  it('deletes only after a confirmation, away from the Enabled toggle; keeping it keeps the rule', async () => {
    await createRule(server, { name: 'Short-lived', resourceType: 'AGENT_ACTION', actionType: 'browse_website', primaryResolver: { type: 'MANAGER' } })
    const page = await newPage()
    await openRules(page)
    const row = page.getByRole('listitem').filter({ hasText: 'Short-lived' })
    // the list row has the toggle, and no delete
    await row.getByLabel('Short-lived enabled').waitFor()
    await expect(row.getByRole('button').count()).resolves.toBe(0)

    await row.getByRole('link', { name: 'Short-lived' }).click()
    const opener = page.getByRole('button', { name: 'Delete this rule…' })
    await opener.click()
    const question = page.getByRole('alertdialog', { name: 'Delete “Short-lived”?' })
    await question.waitFor()
    // the safe answer has the focus
    await expect(question.getByRole('button', { name: 'Keep it' }).evaluate((b) => b === document.activeElement)).resolves.toBe(true)
    await question.getByRole('button', { name: 'Keep it' }).click()
    await question.waitFor({ state: 'detached' })
    await expect(opener.evaluate((b) => b === document.activeElement)).resolves.toBe(true)
    expect(await savedRule('Short-lived')).toBeDefined()

    await opener.click()
    await question.getByRole('button', { name: 'Delete the rule' }).click()
    await row.waitFor({ state: 'detached' })
    expect(await savedRule('Short-lived')).toBeUndefined()
    await page.close()
  })

  it('switching a rule off waits out an undo window, as a decision does: Undo keeps it on, and nothing is saved meanwhile', async () => {
    await createRule(server, { name: 'Kept on', resourceType: 'AGENT_ACTION', actionType: 'browse_website', primaryResolver: { type: 'MANAGER' } })
    const page = await suite.newPage({ viewport: { width: 1280, height: 1000 }, clock: true })
    await openRules(page)
    const row = page.getByRole('listitem').filter({ hasText: 'Kept on' })
    const box = row.getByLabel('Kept on enabled')
    await box.click()
    const toast = page.locator('.toast').filter({ hasText: '“Kept on”' })
    await toast.getByText('Rule “Kept on” is switched off in 5 seconds: what it gates then goes ahead without approval.').waitFor()
    expect(await box.isChecked()).toBe(false)
    expect((await savedRule('Kept on')).enabled).toBe(true)
    await toast.getByRole('button', { name: 'Undo' }).click()
    await toast.waitFor({ state: 'detached' })
    expect(await box.isChecked()).toBe(true)
    await page.clock.fastForward(UNDO_MS * 3)
    expect((await savedRule('Kept on')).enabled).toBe(true)
    await expect(row.getByText('Disabled', { exact: true }).count()).resolves.toBe(0)
    // a second click within the window takes it back too
    await box.click()
    await toast.waitFor()
    await box.click()
    await toast.waitFor({ state: 'detached' })
    expect(await box.isChecked()).toBe(true)
    await page.clock.fastForward(UNDO_MS * 3)
    expect((await savedRule('Kept on')).enabled).toBe(true)
    await page.close()
  })

  it('marks a disabled rule in words, at full contrast', async () => {
    await createRule(server, { name: 'Paused rule', resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', primaryResolver: { type: 'MANAGER' } })
    const page = await suite.newPage({ viewport: { width: 1280, height: 1000 }, clock: true })
    await openRules(page)
    const row = page.getByRole('listitem').filter({ hasText: 'Paused rule' })
    // switched off once its undo window has passed; then the box follows the saved rule, with the badge
    await row.getByLabel('Paused rule enabled').click()
    await page.locator('.toast').filter({ hasText: '“Paused rule”' }).waitFor()
    await page.clock.fastForward(UNDO_MS)
    await row.getByText('Disabled', { exact: true }).waitFor()
    expect(await row.getByLabel('Paused rule enabled').isChecked()).toBe(false)
    expect((await savedRule('Paused rule')).enabled).toBe(false)
    expect(await row.evaluate((li) => getComputedStyle(li).opacity)).toBe('1')
    await page.close()
  })

  it('fits a phone screen, with a stage and the test panel open', async () => {
    const page = await newPage({ viewport: { width: 390, height: 800 } })
    await openRules(page)
    const editor = await newRule(page, 'On the phone')
    await editor.getByRole('button', { name: 'Add a condition' }).click()
    await editor.getByRole('button', { name: 'Add a stage' }).click()
    await editor.getByLabel('Stage 2 fallback type').selectOption('AUTO_APPROVE')
    await page.getByRole('button', { name: 'Test the draft' }).click()
    await page.getByRole('region', { name: 'Test this draft' }).getByRole('status').getByText(/Would/).waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await page.close()
  })

  it('has no serious or critical accessibility violations in the rule list and the editor (axe-core)', async () => {
    await createRule(server, { name: 'Switched off', enabled: false, resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'MANAGER' } })
    const page = await newPage()
    await openRules(page)
    expect(await seriousViolations(page)).toEqual([])
    const editor = await newRule(page, 'Accessible')
    await editor.getByRole('button', { name: 'Add a condition' }).click()
    await editor.getByRole('button', { name: 'Add a group' }).click()
    await editor.getByLabel('Fallback type').selectOption('AUTO_APPROVE')
    await editor.getByRole('button', { name: 'Add a stage' }).click()
    expect(await seriousViolations(page)).toEqual([])
    await page.getByRole('link', { name: 'Switched off' }).click()
    await page.getByRole('button', { name: 'Delete this rule…' }).click()
    expect(await seriousViolations(page)).toEqual([])
    await page.close()
  })
})

describe('conditions made in the builder mean what they say', () => {
  it('offers each action its own facts, and "Email: to has one that contains \'@evil.com\'" gates an email to bob@evil.com', async () => {
    const page = await newPage()
    await openRules(page)
    const editor = await newRule(page, 'Mail to evil')
    await editor.getByLabel('Action').selectOption('call_tool')
    await editor.getByRole('button', { name: 'Add a condition' }).click()
    const facts = await editor.getByLabel('Condition 1: fact').locator('option').allTextContents()
    expect(facts).toEqual(expect.arrayContaining(['Tool: server', 'Tool: tool', 'Tool: marked destructive']))
    expect(facts).not.toContain('Email: to')
    await editor.getByRole('button', { name: 'Remove condition 1' }).click()

    await editor.getByLabel('Action').selectOption('send_email')
    await editor.getByRole('button', { name: 'Add a condition' }).click()
    await editor.getByLabel('Condition 1: fact').selectOption({ label: 'Email: to' })
    const operators = await editor.getByLabel('Condition 1: comparison').locator('option').allTextContents()
    expect(operators).toEqual(expect.arrayContaining(['has one that contains', 'has one with the domain', 'has one outside the domain']))
    await editor.getByLabel('Condition 1: comparison').selectOption({ label: 'has one that contains' })
    await editor.getByLabel('Condition 1: value').fill('@Evil.com')
    await editor.getByLabel('Reviewer type').selectOption('NAMED_USER')
    await editor.getByLabel('Reviewer user').selectOption({ label: 'Rita Reviewer (rita@example.com)' })
    await editor.getByRole('button', { name: 'Create rule' }).click()
    await page.getByRole('link', { name: 'Mail to evil' }).waitFor()

    // which rule gates it ("Outbound email" gates every email; a rule with conditions outranks it)
    const mail = async (to: unknown) => {
      const asked = await requestApproval({ resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to, subject: 'Hi', body: 'Hello' } })
      const id = asked.data.requestApproval.request.id
      return (await server.gql(`query($id: ID!) { approvalRequest(id: $id) { rule { name } } }`, { id }, server.ownerToken)).data.approvalRequest.rule.name
    }
    expect(await mail('bob@evil.com')).toBe('Mail to evil')
    expect(await mail(['amy@acme.test', 'Bob@EVIL.com'])).toBe('Mail to evil')
    expect(await mail('amy@acme.test')).toBe('Outbound email')
    expect((await savedRule('Mail to evil')).conditions).toEqual({ and: [{ some: [{ var: 'params.to' }, { in: ['@evil.com', { var: '' }] }] }] })

    // opened again, the editor shows the condition as it was made
    await page.getByRole('link', { name: 'Mail to evil' }).click()
    const again = page.getByRole('form', { name: 'Edit Mail to evil' })
    expect(await again.getByLabel('Condition 1: comparison').inputValue()).toBe('someContains')
    expect(await again.getByLabel('Condition 1: value').inputValue()).toBe('@evil.com')
    await page.close()
  })
})

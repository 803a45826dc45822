// End to end, as a directory manager uses People and agents: Debian's Chromium driven by
// playwright-core against a real server on PGlite serving a fresh build of the app. Every change
// made in the page is checked through the API (and tokens by using them). Screenshots go to a
// temporary folder; `npm run screenshots` writes them to docs/screenshots for the README.
import { join } from 'node:path'
import { type Page } from 'playwright-core'
import { seriousViolations } from './axe'
import { useBrowserSuite } from './browser'
import { beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createUserWithToken, type TestServer } from '../../server/test/harness.js'

const suite = useBrowserSuite()
let SCREENSHOTS: string
let server: TestServer
let rita: { id: string; token: string }
let ada: { id: string; token: string }
let agent: { id: string; token: string }
let laptop: { id: string; token: string }
let base: string

beforeAll(async () => {
  ;({ server, base, screenshots: SCREENSHOTS } = suite)
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
  ada = await createUserWithToken(server, { email: 'ada@example.com', name: 'Ada Delegate', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Outreach agent' })
  const issued = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "laptop") { token apiToken { id } } }`, { id: rita.id }, server.ownerToken)
  laptop = { id: issued.data.createApiToken.apiToken.id, token: issued.data.createApiToken.token }
})

const newPage = (viewport?: { width: number; height: number }) => suite.newPage({ viewport })

/** Signed in as the owner (a directory manager), on People and agents. */
async function openPeople(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await newPage(viewport)
  await page.goto(base + '/')
  await page.getByLabel('API token').fill(server.ownerToken)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('link', { name: 'People and agents' }).click()
  await page.getByRole('heading', { name: 'People', exact: true }).waitFor()
  return page
}

const WHO = `{ viewer { principal { id } } }`
/** Whom a token stands for now, or the error code the API answers with. */
async function whoIs(token: string): Promise<string> {
  const res = await server.gql(WHO, {}, token)
  return res.data?.viewer?.principal.id ?? codes(res).join(',')
}

async function userAsStored(id: string) {
  const res = await server.gql(
    `query($id: ID!) { node(id: $id) { ... on User { available awayUntil delegate { id } roles { key } manager { id } } } }`,
    { id },
    server.ownerToken,
  )
  expect(res.errors).toBeUndefined()
  return res.data.node
}

describe('People and agents in a browser', () => {
  it("lists a user's tokens with their use, and revokes one only once confirmed; the API then refuses it", async () => {
    // laptop is used once, before the page loads; "test" never is
    expect(await whoIs(laptop.token)).toBe(rita.id)
    const page = await openPeople()
    await page.getByRole('button', { name: 'Manage Rita Reviewer' }).click()
    const panel = page.getByRole('region', { name: 'Manage Rita Reviewer' })
    const tokens = panel.getByRole('table', { name: 'API tokens of Rita Reviewer, newest first' })
    await expect(tokens.getByRole('row').allInnerTexts()).resolves.toHaveLength(3)
    const laptopRow = tokens.getByRole('row', { name: /^laptop/ })
    await expect(laptopRow.getByRole('cell').nth(1).innerText()).resolves.toMatch(/\d/)
    await expect(tokens.getByRole('row', { name: /^test/ }).getByRole('cell').nth(1).innerText()).resolves.toBe('Never')
    await page.screenshot({ path: join(SCREENSHOTS, 'people.png'), fullPage: true })

    // by keyboard: Enter opens the confirmation on Cancel, Escape closes it, and nothing is sent
    const revoke = laptopRow.getByRole('button', { name: 'Revoke token laptop' })
    await revoke.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Revoke the token “laptop” of Rita Reviewer?' })
    await dialog.getByText('It was last used').waitFor()
    await expect(dialog.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === document.activeElement)).resolves.toBe(true)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    await expect(revoke.evaluate((b) => b === document.activeElement)).resolves.toBe(true)
    expect(await whoIs(laptop.token)).toBe(rita.id)

    await page.keyboard.press('Enter')
    await dialog.getByRole('button', { name: 'Revoke token' }).click()
    await panel.getByRole('status').filter({ hasText: 'Token “laptop” revoked' }).waitFor()
    await laptopRow.waitFor({ state: 'detached' })
    // the keyboard stays in the list whose row went away
    await expect(panel.getByRole('heading', { name: 'API tokens' }).evaluate((h) => h === document.activeElement)).resolves.toBe(true)
    expect(await whoIs(laptop.token)).toBe('UNAUTHENTICATED')
    // only that one
    expect(await whoIs(rita.token)).toBe(rita.id)
    await expect(tokens.getByRole('row').allInnerTexts()).resolves.toHaveLength(2)
    await page.close()
  })

  it("disables an agent after a confirmation (its token is refused), enables it again, and changes whom it acts for", async () => {
    expect(await whoIs(agent.token)).toBe(agent.id)
    const page = await openPeople()
    await page.getByRole('button', { name: 'Manage Outreach agent' }).click()
    const panel = page.getByRole('region', { name: 'Manage Outreach agent' })

    await panel.getByRole('button', { name: 'Disable agent' }).click()
    const dialog = page.getByRole('dialog', { name: 'Disable Outreach agent?' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect(await whoIs(agent.token)).toBe(agent.id)

    await panel.getByRole('button', { name: 'Disable agent' }).click()
    await dialog.getByRole('button', { name: 'Disable agent' }).click()
    await panel.getByRole('status').filter({ hasText: 'Outreach agent is disabled' }).waitFor()
    await page.getByRole('row', { name: /^Outreach agent/ }).getByText('Disabled').waitFor()
    expect(await whoIs(agent.token)).toBe('UNAUTHENTICATED')

    await panel.getByRole('button', { name: 'Enable agent' }).click()
    await panel.getByRole('status').filter({ hasText: 'Outreach agent is enabled' }).waitFor()
    expect(await whoIs(agent.token)).toBe(agent.id)

    // the people it may act for, besides its owner
    await panel.getByRole('group', { name: /May act for/ }).getByRole('checkbox', { name: 'Rita Reviewer' }).check()
    await panel.getByRole('form', { name: 'People Outreach agent may act for' }).getByRole('button', { name: 'Review changes…' }).click()
    const actsFor = page.getByRole('dialog', { name: 'Change whom Outreach agent may act for?' })
    await expect(actsFor.getByRole('definition').innerText()).resolves.toMatch(/None\s*→\s*Rita Reviewer/)
    await actsFor.getByRole('button', { name: 'Confirm changes' }).click()
    await panel.getByRole('status').filter({ hasText: 'Saved: acts for Rita Reviewer' }).waitFor()
    const stored = await server.gql(`query($id: ID!) { node(id: $id) { ... on Agent { actsFor { id } } } }`, { id: agent.id }, server.ownerToken)
    expect(stored.data.node.actsFor).toEqual([{ id: rita.id }])
    await page.close()
  })

  it('gives a user two roles and a manager after a confirmation that shows the changes', async () => {
    const page = await openPeople()
    await page.getByRole('button', { name: 'Manage Rita Reviewer' }).click()
    const form = page.getByRole('form', { name: 'Roles and manager of Rita Reviewer' })
    await form.getByRole('group', { name: 'Roles' }).getByRole('checkbox', { name: 'Manager' }).check()
    await form.getByLabel('Reports to').selectOption({ label: 'Ada Delegate' })
    await form.getByRole('button', { name: 'Review changes…' }).click()

    const dialog = page.getByRole('dialog', { name: "Change Rita Reviewer's roles and manager?" })
    const changes = dialog.getByRole('definition')
    await expect(changes.allInnerTexts()).resolves.toEqual([expect.stringMatching(/^Member\s*→\s*Manager, Member$/), expect.stringMatching(/^None\s*→\s*Ada Delegate$/)])
    await page.screenshot({ path: join(SCREENSHOTS, 'people-confirm.png') })
    // not sent until confirmed
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect(await userAsStored(rita.id)).toMatchObject({ roles: [{ key: 'member' }], manager: null })

    await form.getByRole('button', { name: 'Review changes…' }).click()
    await dialog.getByRole('button', { name: 'Confirm changes' }).click()
    await form.getByRole('status').filter({ hasText: 'Saved' }).waitFor()
    expect(await userAsStored(rita.id)).toMatchObject({ roles: [{ key: 'manager' }, { key: 'member' }], manager: { id: ada.id } })
    await page.getByRole('row', { name: /^Rita Reviewer/ }).getByRole('cell', { name: 'Manager, Member' }).waitFor()
    await page.close()
  })

  it('sets a user away until a date, with a delegate', async () => {
    const page = await openPeople()
    await page.getByRole('button', { name: 'Manage Rita Reviewer' }).click()
    const form = page.getByRole('form', { name: 'Availability of Rita Reviewer' })
    const inAWeek = new Date(Date.now() + 7 * 86_400_000)
    const pad = (n: number) => String(n).padStart(2, '0')
    const local = `${inAWeek.getFullYear()}-${pad(inAWeek.getMonth() + 1)}-${pad(inAWeek.getDate())}T09:30`
    await form.getByRole('radio', { name: 'Away' }).check()
    await form.getByLabel('Away until (optional)').fill(local)
    await form.getByLabel('Reviews in their place while away').selectOption({ label: 'Ada Delegate' })
    await form.getByRole('button', { name: 'Save availability' }).click()
    await form.getByRole('status').filter({ hasText: /Saved: Away until .*; Ada Delegate reviews/ }).waitFor()

    expect(await userAsStored(rita.id)).toMatchObject({ available: false, awayUntil: new Date(local).toISOString(), delegate: { id: ada.id } })
    await page.getByRole('row', { name: /^Rita Reviewer/ }).getByText(/Away until .*Ada Delegate reviews/).waitFor()
    await page.close()
  })

  it("sets a person's email notifications and Slack member ID; a malformed ID is caught before it is sent", async () => {
    const page = await openPeople()
    await page.getByRole('button', { name: 'Manage Ada Delegate' }).click()
    const form = page.getByRole('form', { name: 'Notifications of Ada Delegate' })
    const email = form.getByRole('checkbox', { name: 'Email notifications' })
    await expect(email.isChecked()).resolves.toBe(true)
    await email.uncheck()
    await form.getByLabel('Slack member ID').fill('not-an-id')
    await form.getByText('A member ID starts with U or W').waitFor()
    await expect(form.getByRole('button', { name: 'Save notifications' }).isDisabled()).resolves.toBe(true)
    await form.getByLabel('Slack member ID').fill('U0ADA1234')
    await form.getByRole('button', { name: 'Save notifications' }).click()
    await form.getByRole('status').filter({ hasText: 'Saved: email off, Slack U0ADA1234.' }).waitFor()
    const stored = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { notifyByEmail slackUserId } } }`, { id: ada.id }, server.ownerToken)
    expect(stored.data.node).toEqual({ notifyByEmail: false, slackUserId: 'U0ADA1234' })
    expect(await seriousViolations(page, 'form[aria-label="Notifications of Ada Delegate"]')).toEqual([])
    await page.close()
  })

  it('every signed-in person turns their own email notifications off and on from the header', async () => {
    const page = await newPage()
    await page.goto(base + '/')
    await page.getByLabel('API token').fill(rita.token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('Notifications', { exact: true }).click()
    const email = page.getByRole('checkbox', { name: 'Email me requests to decide' })
    await page.getByText('Slack is not linked').waitFor()
    await email.uncheck()
    // enabled again once the server answered
    await page.getByRole('checkbox', { name: 'Email me requests to decide', checked: false, disabled: false }).waitFor()
    const mine = () => server.gql(`{ viewer { principal { ... on User { notifyByEmail } } } }`, {}, rita.token)
    expect((await mine()).data.viewer.principal.notifyByEmail).toBe(false)
    expect(await seriousViolations(page, 'body')).toEqual([])
    await email.check()
    await page.getByRole('checkbox', { name: 'Email me requests to decide', checked: true, disabled: false }).waitFor()
    expect((await mine()).data.viewer.principal.notifyByEmail).toBe(true)
    await page.close()
  })

  it('fits a phone: the panel of a person is no wider than the screen', async () => {
    const page = await openPeople({ width: 390, height: 844 })
    await page.getByRole('button', { name: 'Manage Ada Delegate' }).click()
    const panel = page.getByRole('region', { name: 'Manage Ada Delegate' })
    await panel.getByRole('button', { name: 'Save availability' }).waitFor()
    const box = await panel.boundingBox()
    expect(box!.x).toBeGreaterThanOrEqual(0)
    expect(box!.x + box!.width).toBeLessThanOrEqual(390)
    await page.screenshot({ path: join(SCREENSHOTS, 'people-phone.png'), fullPage: true })
    await page.close()
  })
})

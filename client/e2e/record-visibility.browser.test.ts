// End to end, as an approval manager sets who reads a module's records, under the rules list:
// Debian's Chromium driven by playwright-core against a real server on PGlite serving a fresh build.
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRule, createUserWithToken, type TestServer } from '../../server/test/harness.js'
import { seriousViolations } from './axe'
import { useBrowserSuite } from './browser'

const suite = useBrowserSuite()
let server: TestServer
let owner: { id: string; token: string }
let other: { id: string; token: string }
let deal: string

beforeAll(async () => {
  ;({ server } = suite)
  owner = await createUserWithToken(server, { email: 'bea@example.com', name: 'Bea', roleKeys: ['member'] })
  other = await createUserWithToken(server, { email: 'carl@example.com', name: 'Carl', roleKeys: ['member'] })
  await createRule(server, { name: 'Deal edits: the owner', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'deals', primaryResolver: { type: 'RECORD_OWNER' } })
  const created = await server.gql(`mutation { createRecord(input: { module: "deals", data: { name: "Acme" } }) { record { id } } }`, {}, owner.token)
  deal = created.data.createRecord.record.id
})

/** Whether Carl, who does not own the deal, reads it. */
const carlReads = async () => (await server.gql(`query($id: ID!) { record(id: $id) { id } }`, { id: deal }, other.token)).data.record !== null
const settings = async () => (await server.gql(`{ moduleSettings { module visibility } }`, {}, server.ownerToken)).data.moduleSettings

describe('who reads records, in the rules admin', () => {
  it("lists the rules' modules as readable by everyone, and makes one private only once Save is pressed", async () => {
    const page = await suite.newPage({ viewport: { width: 1280, height: 1000 } })
    await suite.signIn(page, server.ownerToken)
    await page.getByRole('link', { name: 'Rules' }).click()
    const section = page.getByRole('region', { name: 'Who reads records' })
    const deals = section.getByLabel('Who reads records of deals')
    await expect.poll(() => deals.inputValue()).toBe('ORG')
    expect(await section.getByText('(default)').count()).toBe(1)

    // picking an option changes nothing yet
    await deals.selectOption('PRIVATE')
    expect(await carlReads()).toBe(true)
    await section.getByRole('button', { name: 'Cancel' }).click()
    expect(await deals.inputValue()).toBe('ORG')
    await deals.selectOption('PRIVATE')
    await section.getByRole('button', { name: 'Save' }).click()
    await section.getByRole('status').getByText('Records of deals are now private to their owners, record managers and the agents acting for them.').waitFor()
    expect(await settings()).toEqual([{ module: 'deals', visibility: 'PRIVATE' }])
    expect(await carlReads()).toBe(false)
    expect(await section.getByText('(default)').count()).toBe(0)
    await page.screenshot({ path: join(suite.screenshots, 'module-visibility.png'), fullPage: true })
    expect(await seriousViolations(page)).toEqual([])
  })

  it('sets a module no rule names yet, by its name trimmed', async () => {
    const page = await suite.newPage({ viewport: { width: 1280, height: 1000 } })
    await suite.signIn(page, server.ownerToken)
    await page.getByRole('link', { name: 'Rules' }).click()
    const form = page.getByRole('form', { name: "Set a module's visibility" })
    await form.getByLabel('Module').fill('  invoices  ')
    await form.getByLabel('Readable by').selectOption('PRIVATE')
    await form.getByRole('button', { name: 'Set' }).click()
    const section = page.getByRole('region', { name: 'Who reads records' })
    await section.getByRole('status').getByText('Records of invoices are now private').waitFor()
    expect(await section.getByLabel('Who reads records of invoices').inputValue()).toBe('PRIVATE')
    expect(await form.getByLabel('Module').inputValue()).toBe('')
    expect(await settings()).toContainEqual({ module: 'invoices', visibility: 'PRIVATE' })

    // a name of only spaces is no name
    await form.getByLabel('Module').fill('   ')
    expect(await form.getByRole('button', { name: 'Set' }).isDisabled()).toBe(true)
  })
})

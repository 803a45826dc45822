// End to end, as an approval manager uses Webhooks: Debian's Chromium driven by playwright-core
// against a real server on PGlite serving a fresh build of the app, sending to a real receiver on
// loopback that verifies every delivery with the standardwebhooks library and the secret the page
// showed. Screenshots go to a temporary folder (`npm run screenshots` writes docs/screenshots).
import { join } from 'node:path'
import { type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, type TestServer } from '../../server/test/harness.js'
import { startReceiver, type Receiver } from '../../server/test/webhook-receiver.js'
import { seriousViolations } from './axe'
import { useBrowserSuite, type PageOptions } from './browser'

// the dispatcher runs as in production: woken by each mutation, and every 200 ms
const suite = useBrowserSuite({ server: { webhooks: { allowPrivateNetworks: true, intervalMs: 200 } } })
let SCREENSHOTS: string
let server: TestServer
let receiver: Receiver

beforeAll(async () => {
  ;({ server, screenshots: SCREENSHOTS } = suite)
  receiver = await startReceiver()
})
afterAll(async () => {
  await receiver?.close()
})

async function openWebhooks(options: Pick<PageOptions, 'viewport' | 'colorScheme'> = {}): Promise<Page> {
  const page = await suite.newPage(options)
  await suite.signIn(page, server.ownerToken)
  await page.getByRole('link', { name: 'Webhooks' }).click()
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor()
  return page
}

describe('Webhooks in a browser', () => {
  it('creates an endpoint, shows its secret once, sends a test event that the receiver verifies, and redelivers it', async () => {
    const page = await openWebhooks()
    await page.getByRole('link', { name: 'New endpoint' }).click()
    const form = page.getByRole('form', { name: 'New endpoint' })
    await form.getByLabel('URL').fill(receiver.url)
    await form.getByLabel('Description (optional)').fill('Ops receiver')
    // every event is wanted by default; this one wants all but escalations
    await form.getByRole('checkbox', { name: /approval\.escalated/ }).uncheck()
    expect(await seriousViolations(page)).toEqual([])
    await form.getByRole('button', { name: 'Create endpoint' }).click()

    const secret = (await page.getByLabel('Signing secret', { exact: true }).innerText()).trim()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    receiver.secret = secret
    expect(await seriousViolations(page)).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks-secret.png') })
    await page.getByRole('button', { name: 'I have stored it' }).click()
    await page.getByRole('region', { name: 'Webhook endpoints' }).getByRole('link', { name: receiver.url }).waitFor()

    // the endpoint's page: its settings as saved, and never the secret again
    const settings = page.getByRole('form', { name: `Settings of ${receiver.url}` })
    await expect(settings.getByLabel('URL').inputValue()).resolves.toBe(receiver.url)
    await expect(settings.getByRole('checkbox', { name: /approval\.escalated/ }).isChecked()).resolves.toBe(false)
    await expect(settings.getByRole('checkbox', { name: /approval\.decided/ }).isChecked()).resolves.toBe(true)
    await page.reload()
    await page.getByRole('button', { name: 'Send a test event' }).waitFor()
    expect(await page.content()).not.toContain(secret.slice(6))

    await page.getByRole('button', { name: 'Send a test event' }).click()
    await page.getByRole('status').filter({ hasText: 'A test event (webhook.test) is on its way' }).waitFor()
    const row = page.getByRole('row', { name: /^webhook\.test/ })
    await row.getByText('Succeeded').waitFor()
    await expect(row.getByRole('cell', { name: 'HTTP 204' }).count()).resolves.toBe(1)
    expect(receiver.received.map((r) => r.verifyError)).toEqual([null])
    expect(receiver.payloads()[0]).toMatchObject({ type: 'webhook.test', data: { endpoint: { url: receiver.url } } })

    await row.getByRole('button', { name: 'Payload of webhook.test' }).click()
    await expect(page.getByLabel('Payload of webhook.test').innerText()).resolves.toContain('"type": "webhook.test"')
    expect(await seriousViolations(page)).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks.png'), fullPage: true })

    await row.getByRole('button', { name: 'Redeliver webhook.test' }).click()
    await receiver.waitFor(2)
    await row.getByRole('cell', { name: '2', exact: true }).waitFor()
    expect(receiver.received[1]!.verifyError).toBeNull()
    expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id'])
    await page.close()
  })

  it('lists the deliveries of approval events as they happen, and deletes an endpoint behind a confirmation', async () => {
    const reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
    const agent = await createAgentWithToken(server, { name: 'Mailer' })
    await createRule(server, { name: 'Mail', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const page = await openWebhooks({ colorScheme: 'dark' })
    await page.getByRole('link', { name: receiver.url }).click()
    await page.getByRole('button', { name: 'Send a test event' }).waitFor()
    const asked = await server.gql(
      `mutation { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "send_email", params: { to: "a@b.c", subject: "Hi", body: "..." } }) { request { id } } }`,
      {},
      agent.token,
    )
    expect(asked.errors).toBeUndefined()
    await receiver.waitFor(3)
    await page.reload()
    await page.getByRole('row', { name: /^approval\.requested/ }).getByText('Succeeded').waitFor()
    expect(await seriousViolations(page)).toEqual([])

    await page.getByRole('button', { name: 'Delete endpoint…' }).click()
    const dialog = page.getByRole('dialog', { name: `Delete the endpoint ${receiver.url}?` })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect((await server.gql(`{ webhookEndpoints { id } }`, {}, server.ownerToken)).data.webhookEndpoints).toHaveLength(1)
    await page.getByRole('button', { name: 'Delete endpoint…' }).click()
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click()
    await page.getByText('No endpoint yet').waitFor()
    expect((await server.gql(`{ webhookEndpoints { id } }`, {}, server.ownerToken)).data.webhookEndpoints).toEqual([])
    await page.close()
  })

  it('fits a phone', async () => {
    const created = await server.gql(`mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`, { input: { url: receiver.url, events: ['APPROVAL_DECIDED'] } }, server.ownerToken)
    receiver.secret = created.data.createWebhookEndpoint.secret
    const page = await openWebhooks({ viewport: { width: 390, height: 844 } })
    await page.getByRole('link', { name: receiver.url }).click()
    const detail = page.getByRole('region', { name: 'Webhook endpoint', exact: true })
    await detail.getByRole('button', { name: 'Send a test event' }).click()
    await detail.getByRole('row', { name: /^webhook\.test/ }).getByText('Succeeded').waitFor()
    const box = await detail.boundingBox()
    expect(box!.x).toBeGreaterThanOrEqual(0)
    expect(box!.x + box!.width).toBeLessThanOrEqual(390)
    expect(await seriousViolations(page)).toEqual([])
    await page.close()
  })
})

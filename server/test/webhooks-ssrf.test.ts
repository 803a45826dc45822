// Where webhooks may not go (SSRF): loopback and private networks unless the operator allows
// them, checked when an endpoint is saved and again at send time on the address a name resolves
// to; no redirects followed; no more than a small part of an answer read.
import { createServer as createTcpServer, type Socket } from 'node:net'
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressKind } from '../src/outbox/network.js'
import { codes, startServer, type TestServer } from './harness.js'
import { startReceiver } from './webhook-receiver.js'

const CREATE = `mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id url } } }`
const TEST = `mutation($id: ID!) { sendTestWebhook(id: $id) { id } }`

let strict: TestServer
let lenient: TestServer
beforeAll(async () => {
  ;[strict, lenient] = await Promise.all([startServer(), startServer({ webhooks: { allowPrivateNetworks: true } })])
})
afterAll(async () => {
  await Promise.all([strict?.destroy(), lenient?.destroy()])
})

const create = (server: TestServer, url: string) => server.gql(CREATE, { input: { url, events: ['APPROVAL_DECIDED'] } }, server.ownerToken)

describe('webhook destinations', () => {
  it('classifies addresses: private and loopback (IPv4, IPv6, IPv4-mapped), never-destinations, public', () => {
    const kinds = Object.fromEntries(
      [
        '127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '::1', 'fd12::1', 'fe80::1',
        '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::10.0.0.1',
        '0.0.0.0', '::', '224.0.0.1', '255.255.255.255', 'ff02::1', '192.0.2.1', '2001:db8::1', '2002:7f00:1::1', 'not-an-ip',
        '8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8',
      ].map((a) => [a, addressKind(a)]),
    )
    expect(kinds).toEqual({
      '127.0.0.1': 'private', '10.1.2.3': 'private', '172.20.0.1': 'private', '192.168.1.1': 'private', '100.64.0.1': 'private',
      '169.254.169.254': 'private', '::1': 'private', 'fd12::1': 'private', 'fe80::1': 'private',
      '::ffff:127.0.0.1': 'private', '::ffff:7f00:1': 'private', '::ffff:10.0.0.1': 'private', '64:ff9b::10.0.0.1': 'private',
      '0.0.0.0': 'forbidden', '::': 'forbidden', '224.0.0.1': 'forbidden', '255.255.255.255': 'forbidden', 'ff02::1': 'forbidden',
      '192.0.2.1': 'forbidden', '2001:db8::1': 'forbidden', '2002:7f00:1::1': 'forbidden', 'not-an-ip': 'forbidden',
      '8.8.8.8': 'public', '93.184.216.34': 'public', '2606:4700:4700::1111': 'public', '::ffff:8.8.8.8': 'public',
    })
  })

  it('without APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: http and private or loopback addresses are refused when saved', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hooks',
      'http://hooks.example.com/x',
      'https://127.0.0.1/hooks',
      'https://[::1]/hooks',
      'https://[::ffff:127.0.0.1]/hooks',
      'https://10.0.0.7/hooks',
      'https://169.254.169.254/latest/meta-data',
      'https://0x7f.1/hooks', // 127.0.0.1, as URL parsers read it
      'https://0.0.0.0/hooks',
    ]) {
      const res = await create(strict, url)
      expect([url, codes(res), res.errors?.[0]?.extensions?.field]).toEqual([url, ['BAD_USER_INPUT'], 'input.url'])
    }
    const http = await create(strict, 'http://127.0.0.1:8080/hooks')
    expect(http.errors![0]!.message).toContain('APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true')
    expect(await strict.db.prisma.webhookEndpoint.count()).toBe(0)
  })

  it('without it, a name that resolves to loopback is refused at send time, before any connection; lastError does not tell what an internal host name resolves to', async () => {
    // a TCP listener on loopback that counts connections: none may arrive
    const sockets: Socket[] = []
    const listener = createTcpServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const { port } = listener.address() as { port: number }
    try {
      const created = await create(strict, `https://localhost:${port}/hooks`)
      expect(created.errors).toBeUndefined()
      const endpointId = created.data.createWebhookEndpoint.endpoint.id
      const queued = await strict.gql(TEST, { id: endpointId }, strict.ownerToken)
      expect(queued.errors).toBeUndefined()
      expect(await strict.app.webhooks.runOnce()).toBe(1)
      const delivery = await strict.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: decodeGlobalID(queued.data.sendTestWebhook.id).id } })
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: null })
      // what an internal name resolves to is not told: only that it is private
      expect(delivery.lastError).toBe('Not sent: localhost resolves to a private address; webhooks go to public addresses unless APPROVALS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.')
      expect(sockets).toHaveLength(0)
    } finally {
      listener.close()
    }
  })

  it('IPv4-compatible IPv6 addresses ([::7f00:1], [::a9fe:a9fe]) are not public: refused when saved, with or without private networks, and at send time', async () => {
    const kinds = Object.fromEntries(
      [
        // IPv4-compatible (::/96, deprecated) and the rest of ::/8: never a destination
        '::7f00:1', '::a9fe:a9fe', '::127.0.0.1', '::8.8.8.8', '::0.0.0.2', '::1:0:0:1', '::ffff:0:7f00:1', '::0.0.0.1',
        // IPv4-mapped, in every spelling, and NAT64: as the IPv4 address they hold
        '0:0:0:0:0:ffff:7f00:1', '::ffff:a9fe:a9fe', '0::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '64:ff9b::7f00:1', '64:ff9b::808:808',
        // 6to4 and Teredo embed an IPv4 address of their own: never a destination
        '2002:a9fe:a9fe::1', '2002:808:808::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '64:ff9b:1::a00:1',
        'FE80::1', 'fec0::1',
      ].map((a) => [a, addressKind(a)]),
    )
    expect(kinds).toEqual({
      '::7f00:1': 'forbidden', '::a9fe:a9fe': 'forbidden', '::127.0.0.1': 'forbidden', '::8.8.8.8': 'forbidden', '::0.0.0.2': 'forbidden',
      '::1:0:0:1': 'forbidden', '::ffff:0:7f00:1': 'forbidden', '::0.0.0.1': 'private', // ::1, spelled otherwise
      '0:0:0:0:0:ffff:7f00:1': 'private', '::ffff:a9fe:a9fe': 'private', '0::ffff:10.0.0.1': 'private', '64:ff9b::a9fe:a9fe': 'private',
      '64:ff9b::7f00:1': 'private', '64:ff9b::808:808': 'public',
      '2002:a9fe:a9fe::1': 'forbidden', '2002:808:808::1': 'forbidden', '2001:0:4136:e378:8000:63bf:3fff:fdd2': 'forbidden', '64:ff9b:1::a00:1': 'forbidden',
      'FE80::1': 'private', 'fec0::1': 'private',
    })
    for (const server of [strict, lenient]) {
      for (const url of ['https://[::7f00:1]/hooks', 'https://[::a9fe:a9fe]/latest/meta-data', 'http://[::7f00:1]:8080/hooks', 'https://[0:0:0:0:0:0:7f00:1]/hooks']) {
        const res = await create(server, url)
        expect([url, codes(res), res.errors?.[0]?.extensions?.field]).toEqual([url, ['BAD_USER_INPUT'], 'input.url'])
      }
    }
    // an endpoint stored before this check: refused when sent, before any connection
    const created = await create(lenient, 'https://hooks.example.com/x')
    const endpointId = decodeGlobalID(created.data.createWebhookEndpoint.endpoint.id).id
    await lenient.db.prisma.webhookEndpoint.update({ where: { id: endpointId }, data: { url: 'https://[::a9fe:a9fe]/latest/meta-data' } })
    const queued = await lenient.gql(TEST, { id: created.data.createWebhookEndpoint.endpoint.id }, lenient.ownerToken)
    expect(queued.errors).toBeUndefined()
    await lenient.app.webhooks.runOnce()
    const delivery = await lenient.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: decodeGlobalID(queued.data.sendTestWebhook.id).id } })
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: null, lastError: 'Not sent: ::a9fe:a9fe is not an address webhooks may be sent to (unspecified, multicast or reserved).' })
    await lenient.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: created.data.createWebhookEndpoint.endpoint.id }, lenient.ownerToken)
  })

  it('with it: http only to private addresses; redirects are not followed; at most a small part of an answer is read', async () => {
    expect(codes(await create(lenient, 'http://8.8.8.8/hooks'))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await create(lenient, 'https://0.0.0.0/hooks'))).toEqual(['BAD_USER_INPUT'])

    const target = await startReceiver()
    let sentBytes = 0
    let hungUp!: () => void
    const dropped = new Promise<void>((resolve) => (hungUp = resolve))
    const redirecting = await startReceiver({ answer: (_n, _req, res) => void res.writeHead(307, { location: target.url }).end() })
    const big = await startReceiver({
      answer: (_n, _req, res) => {
        // an endless answer: the sender must stop reading it and hang up
        res.writeHead(500, { 'content-type': 'text/plain' })
        const chunk = Buffer.alloc(64 * 1024, 'x')
        res.on('close', () => hungUp())
        const pump = () => {
          while (!res.destroyed && sentBytes < 256 * 1024 * 1024) {
            sentBytes += chunk.length
            if (!res.write(chunk)) return void res.once('drain', pump)
          }
        }
        pump()
      },
    })
    try {
      for (const receiver of [redirecting, big]) {
        const res = await create(lenient, receiver.url)
        expect(res.errors).toBeUndefined()
        const id = res.data.createWebhookEndpoint.endpoint.id
        expect((await lenient.gql(TEST, { id }, lenient.ownerToken)).errors).toBeUndefined()
      }
      await lenient.app.webhooks.runOnce()
      const rows = await lenient.db.prisma.webhookDelivery.findMany({ include: { endpoint: { select: { url: true } } } })
      const byUrl = Object.fromEntries(rows.map((r) => [r.endpoint.url, r]))
      expect(byUrl[big.url]).toMatchObject({ status: 'PENDING', lastStatusCode: 500 })
      expect(byUrl[big.url]!.lastError).toMatch(/^HTTP 500: x+$/)
      expect(byUrl[big.url]!.lastError!.length).toBeLessThanOrEqual(310)
      // the sender hung up, well before the endless answer ended
      await dropped
      expect(sentBytes).toBeLessThan(64 * 1024 * 1024)
      expect(byUrl[redirecting.url]).toMatchObject({ status: 'PENDING', lastStatusCode: 307 })
      expect(byUrl[redirecting.url]!.lastError).toBe(`HTTP 307: redirects are not followed (Location: ${target.url})`)
      expect(redirecting.received).toHaveLength(1)
      expect(target.received).toHaveLength(0)
    } finally {
      await Promise.all([target.close(), redirecting.close(), big.close()])
    }
  })
})

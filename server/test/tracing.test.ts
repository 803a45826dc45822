// OpenTelemetry: each GraphQL operation is a span, with the request id the response's header gives.
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTracerProvider, REQUEST_ID_ATTRIBUTE } from '../src/tracing.js'
import { startServer, type TestServer } from './harness.js'

const exporter = new InMemorySpanExporter()
let provider: Awaited<ReturnType<typeof createTracerProvider>>
let server: TestServer

beforeAll(async () => {
  provider = await createTracerProvider({ exporter })
  server = await startServer({ tracerProvider: provider })
})
afterAll(async () => {
  await server?.destroy()
  await provider?.shutdown()
})

it('traces each operation with its name, type and the request id, and leaves out variables and results', async () => {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.ownerToken}`, 'x-request-id': 'trace-me-0001' },
    body: JSON.stringify({ query: 'query WhoAmI($key: String!) { actionType(key: $key) { key } viewer { principal { name } } }', variables: { key: 'secret-value' } }),
  })
  expect(res.status).toBe(200)
  expect((await res.json()).errors).toBeUndefined()
  const requestId = res.headers.get('x-request-id')
  expect(requestId).toBeTruthy()
  await provider.forceFlush()
  const spans = exporter.getFinishedSpans()
  const operation = spans.find((s) => s.attributes['graphql.execute.operationName'] === 'WhoAmI')
  expect(operation).toBeDefined()
  expect(operation!.attributes).toMatchObject({ 'graphql.execute.operationType': 'query', [REQUEST_ID_ATTRIBUTE]: requestId })
  // every span of the operation carries the request id; none carries what the caller sent
  for (const span of spans.filter((s) => s.spanContext().traceId === operation!.spanContext().traceId)) {
    expect(span.attributes[REQUEST_ID_ATTRIBUTE]).toBe(requestId)
    expect(JSON.stringify(span.attributes)).not.toContain('secret-value')
  }
})

it('traces nothing when no provider is given', async () => {
  const plain = await startServer()
  try {
    exporter.reset()
    await plain.gql('query Plain { viewer { principal { name } } }', {}, plain.ownerToken)
    await provider.forceFlush()
    expect(exporter.getFinishedSpans().filter((s) => s.attributes['graphql.execute.operationName'] === 'Plain')).toEqual([])
  } finally {
    await plain.destroy()
  }
})

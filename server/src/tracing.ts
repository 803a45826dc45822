// OpenTelemetry traces of GraphQL operations (@envelop/opentelemetry), exported over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads it, and the other OTEL_* variables, itself).
// Every span carries the request id (`approvals.request_id`, as in the logs and the x-request-id
// header), so a trace and a log line of one request find each other.
import { context, trace, type Context as OtelContext } from '@opentelemetry/api'
import { getCurrentOtelContext } from '@envelop/opentelemetry'
import type { Plugin } from '@envelop/core'
import { Resource } from '@opentelemetry/resources'
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import type { Context } from './context.js'

export const REQUEST_ID_ATTRIBUTE = 'approvals.request_id'

/** Gives each span its parent's request id, so that the operation's own spans all carry it. */
class RequestIdFromParent implements SpanProcessor {
  onStart(span: Span, parent: OtelContext) {
    const id = (trace.getSpan(parent) as unknown as ReadableSpan | undefined)?.attributes?.[REQUEST_ID_ATTRIBUTE]
    if (id !== undefined) span.setAttribute(REQUEST_ID_ATTRIBUTE, id)
  }
  onEnd() {}
  forceFlush() {
    return Promise.resolve()
  }
  shutdown() {
    return Promise.resolve()
  }
}

/**
 * A tracer provider for the app: spans go to `exporter` (tests: an in-memory one), or by default
 * to the OTLP/HTTP endpoint of OTEL_EXPORTER_OTLP_ENDPOINT, in batches.
 */
export async function createTracerProvider({ serviceName = 'approvals', exporter }: { serviceName?: string; exporter?: SpanExporter } = {}) {
  const spanExporter = exporter ?? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
  return new NodeTracerProvider({
    resource: new Resource({ 'service.name': serviceName }),
    spanProcessors: [new RequestIdFromParent(), new BatchSpanProcessor(spanExporter)],
  })
}

/** Puts the request id on the operation's span, which @envelop/opentelemetry started just before. */
export function useRequestIdOnSpans(): Plugin<Context> {
  const tag = (ctx: Context) => trace.getSpan(getCurrentOtelContext(ctx) ?? context.active())?.setAttribute(REQUEST_ID_ATTRIBUTE, ctx.requestId)
  return {
    onExecute: ({ args }) => void tag(args.contextValue),
    onSubscribe: ({ args }) => void tag(args.contextValue),
  }
}

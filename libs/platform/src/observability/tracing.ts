import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span, type TextMapGetter } from '@opentelemetry/api';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';

/**
 * OpenTelemetry, on only when an OTLP endpoint is configured (the standard OTEL_* variables, read
 * by the exporter itself). Off, the SDK is not even loaded (it is a good part of a process's
 * start-up), nothing is registered, and every helper here returns at its first line, so the hot
 * paths pay a branch. This module is the platform's first import: the http and pg
 * instrumentations patch those modules when they are loaded, which must come after.
 */
export const tracingEnabled =
  process.env.OTEL_SDK_DISABLED !== 'true' && Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);

/** A batch of relayed calls: each call in it carries its own trace context (relay-send.ts). */
const RELAY_BATCH_SUFFIX = '/parley.rpc.v1.RelayService/Relay';

/* eslint-disable @typescript-eslint/no-require-imports -- the SDK is loaded only when tracing is on */
if (tracingEnabled) {
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        // A server span per RPC comes from the interceptor chain, which also sees each call of a batch.
        ignoreIncomingRequestHook: () => true,
        ignoreOutgoingRequestHook: (req) => String(req.path ?? '').endsWith(RELAY_BATCH_SUFFIX),
      }),
      // Queries outside a traced call (the outbox relay's polls, sweeps) are not worth a trace each.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
}

const tracer = trace.getTracer('@parley/platform');
const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** Starts exporting this process's spans over OTLP/HTTP; returns what flushes them at shutdown. */
export function startTracing(service: string): { shutdown(): Promise<void> } {
  if (!tracingEnabled) return { shutdown: async () => undefined };
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || `parley-${service}` }),
    // OTEL_BSP_SCHEDULE_DELAY as the specification names it; the SDK leaves reading it to its caller.
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: Number(process.env.OTEL_BSP_SCHEDULE_DELAY) || undefined })],
  });
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The current trace and span ids, for log lines. */
export function currentTraceIds(): { traceId: string; spanId: string } | undefined {
  if (!tracingEnabled) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** The current trace context as W3C headers (traceparent), added to `carrier`. */
export function injectTraceContext<C extends Record<string, string>>(carrier: C, ctx: Context = context.active()): C {
  if (tracingEnabled) propagation.inject(ctx, carrier);
  return carrier;
}

/** The current trace context as a string to store beside an event (see Outbox), or null. */
export function traceparentNow(): string | null {
  if (!tracingEnabled) return null;
  return injectTraceContext<Record<string, string>>({}).traceparent ?? null;
}

/** NATS headers carrying the current trace context (or the stored `traceparent`), or undefined when off. */
export function traceHeaders(traceparent?: string | null): MsgHdrs | undefined {
  if (!tracingEnabled) return undefined;
  const carrier = traceparent ? { traceparent } : injectTraceContext<Record<string, string>>({});
  if (!carrier.traceparent) return undefined;
  const h = natsHeaders();
  h.set('traceparent', carrier.traceparent);
  return h;
}

interface HeaderLike {
  get(name: string): string | string[] | null | undefined;
}

const headerGetter: TextMapGetter<HeaderLike> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: () => [],
};

/**
 * Runs `fn` in a span of its own, a child of the trace context `carrier` holds (NATS or HTTP
 * headers), or of the current context when it holds none. Without tracing it just runs `fn`.
 */
export function inSpan<T>(name: string, kind: SpanKind, carrier: HeaderLike | undefined, fn: (span?: Span) => T): T {
  if (!tracingEnabled) return fn();
  const parent = carrier ? propagation.extract(context.active(), carrier, headerGetter) : context.active();
  return tracer.startActiveSpan(name, { kind }, parent, (span) => {
    try {
      const result = fn(span);
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => (span.end(), value),
          (err: unknown) => {
            failed(span, err);
            throw err;
          },
        ) as T;
      }
      span.end();
      return result;
    } catch (err) {
      failed(span, err);
      throw err;
    }
  });
}

function failed(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

/**
 * The server span of every RPC (connect-node has no maintained instrumentation, and the fast path
 * would bypass one): named after the method, a child of the caller's traceparent, with the Connect
 * code of a failure. The chain has it only when tracing is on.
 */
export function traceRpc(): Interceptor {
  return (next) => (req) => {
    // Probes every few seconds would bury the traces that matter.
    if (req.service.typeName === HEALTH_SERVICE) return next(req);
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headerGetter);
    const attributes = { 'rpc.system': 'connect_rpc', 'rpc.service': req.service.typeName, 'rpc.method': req.method.name };
    return tracer.startActiveSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        return await next(req);
      } catch (err) {
        const e = ConnectError.from(err);
        span.setAttribute('rpc.connect_rpc.error_code', Code[e.code]);
        span.setStatus({ code: SpanStatusCode.ERROR, message: e.rawMessage });
        throw err;
      } finally {
        span.end();
      }
    });
  };
}

export { SpanKind };

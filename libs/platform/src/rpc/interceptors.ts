import type { DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { authInterceptor, type TokenVerifier } from '../auth/access-token.js';
import { clientAddressGuard, ClientAddressProofs } from './client-address-proof.js';
import type { Metrics } from '../observability/metrics.js';
import { REQUEST_ID_HEADER, requestIdFrom, runInRequest } from '../observability/request-context.js';
import { databaseUnavailable } from '../db/database-unavailable.js';
import { traceRpc, tracingEnabled } from '../observability/tracing.js';
import { contractValidation } from './contract-validation.js';
import { invalidInput } from './invalid-input.js';

/**
 * The fixed server chain, outermost first: the RPC's span (when tracing is on), request context and access log, metrics, error
 * mapping (so the log and the metrics see the code the caller gets), the client address's proof,
 * token verification, then contract validation (the proto's field rules), so a handler starts at
 * its rate limit. Built once, complete; every server of a process gets the same chain.
 * `forwarded` services are validated by the backend they are passed on to.
 */
export function serverInterceptors(
  log: Logger,
  metrics: Metrics,
  verifier: TokenVerifier,
  forwarded: readonly DescService[] = [],
  proofs: ClientAddressProofs = new ClientAddressProofs({ current: '' }),
): readonly Interceptor[] {
  const chain = [requestContext(log), measure(metrics), mapErrors(log), clientAddressGuard(proofs, log), authInterceptor(verifier), contractValidation(forwarded)];
  return tracingEnabled ? [traceRpc(), ...chain] : chain;
}

function requestContext(log: Logger): Interceptor {
  return (next) => (req) => {
    const requestId = requestIdFrom(req.header.get(REQUEST_ID_HEADER));
    const authorization = req.header.get('authorization') ?? undefined;
    return runInRequest({ requestId, authorization }, async () => {
      const started = performance.now();
      try {
        const res = await next(req);
        res.header.set(REQUEST_ID_HEADER, requestId);
        log.debug({ rpc: req.url, ms: elapsed(started) }, 'rpc ok');
        return res;
      } catch (err) {
        const e = ConnectError.from(err);
        e.metadata.set(REQUEST_ID_HEADER, requestId);
        const level = e.code === Code.Internal || e.code === Code.Unknown ? 'error' : 'info';
        log[level]({ rpc: req.url, code: Code[e.code], msg: e.rawMessage, ms: elapsed(started) }, 'rpc failed');
        throw e;
      }
    });
  };
}

function measure(metrics: Metrics): Interceptor {
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const end = metrics.rpcSeconds.startTimer({ method });
    try {
      const res = await next(req);
      metrics.rpcHandled.inc({ method, code: 'ok' });
      return res;
    } catch (err) {
      metrics.rpcHandled.inc({ method, code: Code[ConnectError.from(err).code] });
      throw err;
    } finally {
      end();
    }
  };
}

/**
 * Input that the contract could not refuse (a malformed body, a value the database refuses) is
 * INVALID_ARGUMENT. A database that can't be used right now (restarting, failing over, out of
 * connections) is UNAVAILABLE, which clients retry: an outage, not a bug, so a warning without a
 * stack. Anything else that is not a ConnectError is a bug: log it whole, tell the caller nothing of it.
 */
function mapErrors(log: Logger): Interceptor {
  const hide = (err: unknown): ConnectError => {
    const invalid = invalidInput(err);
    if (invalid) {
      if (!(err instanceof ConnectError)) log.info({ err }, 'the database refused a value of the request');
      return invalid;
    }
    if (err instanceof ConnectError) return err;
    if (databaseUnavailable(err)) {
      log.warn({ reason: (err as Error).message }, 'the database is unavailable');
      return new ConnectError('the database is unavailable; retry shortly', Code.Unavailable);
    }
    log.error({ err }, 'internal error');
    return new ConnectError('internal error; quote the x-request-id header when reporting it', Code.Internal);
  };
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const source = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* source;
          } catch (err) {
            throw hide(err);
          }
        })(),
      };
    } catch (err) {
      throw hide(err);
    }
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

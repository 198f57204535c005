import { Code, ConnectError } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { CallErrorSchema, type BatchCallerSchema, type CallError } from '@parley/proto';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { callerOf, type Caller, type TokenVerifier } from '../auth/access-token.js';
import { Batcher, type BatcherOptions } from '../batching/batcher.js';
import { runInRequest } from '../observability/request-context.js';
import { publicError } from './interceptors.js';

/**
 * Batched calls: the edge sends many clients' calls of one hot method to a backend as a single
 * internal call, and the backend handles each item as that client's own call would be handled
 * (its token checked, its errors answered as Connect errors). Fewer, larger requests between the
 * two: on these machines the socket writes cost more than the calls.
 */

export type BatchCaller = MessageInitShape<typeof BatchCallerSchema>;

export interface BatchItem<I> {
  caller?: BatchCaller;
  request?: I;
}

export interface BatchResult<O> {
  result: { case: 'response'; value: O } | { case: 'error'; value: CallError } | { case: undefined; value?: undefined };
}

/**
 * The edge's side: `call(caller, request)` answers like the backend's own method, with calls that
 * arrive while `concurrency` batches are in flight sent together in the next (see Batcher).
 */
export function batchedMethod<I, O>(send: (items: BatchItem<I>[]) => Promise<BatchResult<O>[]>, opts: BatcherOptions) {
  const batcher = new Batcher<BatchItem<I>, O>(async (items) => (await send(items)).map(answerOf), opts);
  return (caller: BatchCaller, request: I): Promise<O> => batcher.submit({ caller, request });
}

function answerOf<O>({ result }: BatchResult<O>): O | ConnectError {
  switch (result.case) {
    case 'response':
      return result.value;
    case 'error': {
      const err = new ConnectError(result.value.message, result.value.code as Code);
      err.details = result.value.details.map(({ type, value }) => ({ type, value }));
      return err;
    }
    default:
      return new ConnectError('the batch answered an item with nothing', Code.Internal);
  }
}

/**
 * The backend's side: each item's token is checked (UNAUTHENTICATED for that item alone if it
 * fails), then `handle` runs for it in its own request context, all items at once. An item's
 * error is answered as its own call's would be; a bug is logged and hidden, as the interceptors do.
 */
export async function serveBatch<I, O>(
  items: BatchItem<I>[],
  verifier: TokenVerifier,
  log: Logger,
  handle: (caller: Caller, request: I) => Promise<O>,
): Promise<BatchResult<O>[]> {
  return Promise.all(
    items.map(({ caller, request }) =>
      runInRequest({ requestId: caller?.requestId ?? '', authorization: caller?.authorization }, async (): Promise<BatchResult<O>> => {
        try {
          if (!request) throw new ConnectError('a batch item has no request', Code.InvalidArgument);
          const value = await handle(await callerOf(verifier, caller?.authorization), request);
          return { result: { case: 'response', value } };
        } catch (err) {
          const e = publicError(log, err);
          const value = create(CallErrorSchema, {
            code: e.code,
            message: e.rawMessage,
            details: e.details.map((d) => ('desc' in d ? { type: d.desc.typeName, value: toBinary(d.desc, create(d.desc, d.value)) } : { type: d.type, value: d.value })),
          });
          return { result: { case: 'error', value } };
        }
      }),
    ),
  );
}

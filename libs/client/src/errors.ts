import { Code, ConnectError } from '@connectrpc/connect';

/** What the app should do about a failed call, by the server's code. */
const ADVICE: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: 'fix the request: the message says which field is wrong',
  [Code.Unauthenticated]: 'log in again: the session ended or the credentials are wrong',
  [Code.PermissionDenied]: 'this account may not do that',
  [Code.NotFound]: 'check the id: the server does not know it (yet)',
  [Code.AlreadyExists]: 'pick another value: it is taken',
  [Code.FailedPrecondition]: 'the state changed: refresh what you show and try again',
  [Code.ResourceExhausted]: 'slow down or send less: a limit was reached',
  [Code.Unavailable]: 'the server is unreachable: retry later',
  [Code.DeadlineExceeded]: 'the server took too long: retry later',
};

/**
 * A call the server refused, or that could not reach it. `code` is the server's Connect code,
 * `advice` what to do about it in a few words; `message` is the server's own explanation.
 */
export class ParleyError extends Error {
  override readonly name: string = 'ParleyError';
  constructor(
    message: string,
    readonly code: Code,
    readonly advice: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The code's name as the wire spells it, e.g. "failed_precondition". */
  get codeName(): string {
    return Code[this.code].replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
  }

  /** Wraps any error thrown by a call; a ParleyError passes through unchanged. */
  static from(err: unknown): ParleyError {
    if (err instanceof ParleyError) return err;
    const connect = ConnectError.from(err);
    return new ParleyError(connect.rawMessage, connect.code, ADVICE[connect.code] ?? 'unexpected failure: report it', { cause: err });
  }
}

/** The session is over (a refused refresh, or logout): log in again. */
export class LoggedOutError extends ParleyError {
  override readonly name = 'LoggedOutError';
  constructor(reason: string) {
    super(reason, Code.Unauthenticated, 'log in again');
  }
}

/** A key-transparency check failed: the server showed a key or a log it cannot prove. Never ignore it. */
export class KeyTransparencyError extends ParleyError {
  override readonly name = 'KeyTransparencyError';
  constructor(reason: string) {
    super(reason, Code.DataLoss, 'do not trust this key: report it to the user and the operator');
  }
}

/** A send still mismatched the conversation's devices after the bounded number of tries. */
export class DeviceMismatchError extends ParleyError {
  override readonly name = 'DeviceMismatchError';
  constructor(tries: number, cause: unknown) {
    super(`the conversation's devices kept changing: still mismatched after ${tries} tries`, Code.FailedPrecondition, 'try again later', { cause });
  }
}

/** Codes that say the server, or the path to it, was down: the call may be retried. */
const TRANSIENT_CODES = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Aborted]);

/**
 * Whether a failed call is worth retrying: the server was unreachable, or the connection broke
 * mid-call (Node's transport reports a reset socket as INTERNAL, with the socket error as cause).
 * Only idempotent calls should be retried on it.
 */
export function isTransient(err: unknown): boolean {
  const error = err instanceof ParleyError ? err : ParleyError.from(err);
  if (TRANSIENT_CODES.has(error.code)) return true;
  if (error.code !== Code.Internal && error.code !== Code.Unknown) return false;
  const connect = error.cause instanceof ConnectError ? error.cause : undefined;
  const socketError = connect?.cause as { code?: unknown; message?: unknown } | undefined;
  return typeof socketError?.code === 'string' ? socketError.code.startsWith('E') : socketError?.message === 'socket hang up';
}

/** Runs a call, turning what it throws into a ParleyError. */
export async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw ParleyError.from(err);
  }
}

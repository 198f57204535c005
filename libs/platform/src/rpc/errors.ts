import { Code, ConnectError } from '@connectrpc/connect';

/** Shorthands so handlers state the code and a message that tells the caller what to fix. */
export const rpcError = {
  invalidArgument: (message: string) => new ConnectError(message, Code.InvalidArgument),
  unauthenticated: (message: string) => new ConnectError(message, Code.Unauthenticated),
  permissionDenied: (message: string) => new ConnectError(message, Code.PermissionDenied),
  notFound: (message: string) => new ConnectError(message, Code.NotFound),
  alreadyExists: (message: string) => new ConnectError(message, Code.AlreadyExists),
  failedPrecondition: (message: string) => new ConnectError(message, Code.FailedPrecondition),
  resourceExhausted: (message: string) => new ConnectError(message, Code.ResourceExhausted),
};

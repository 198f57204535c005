import { ConnectError } from '@connectrpc/connect';
import { errorToJsonBytes } from '@connectrpc/connect/protocol-connect';

/** The error as Connect's JSON; a detail that can't be serialized must not cost the caller the error. */
export function errorJson(error: ConnectError): Uint8Array {
  try {
    return errorToJsonBytes(error, {});
  } catch {
    return errorToJsonBytes(new ConnectError(error.rawMessage, error.code), {});
  }
}

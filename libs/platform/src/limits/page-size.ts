import { rpcError } from '../rpc/errors.js';

/** Every paged list RPC: page_size 0 means the default, above the maximum is refused. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** The page size to use for a request's page_size, or INVALID_ARGUMENT when it is too large. */
export function pageSize(requested: number): number {
  if (requested > MAX_PAGE_SIZE) throw rpcError.invalidArgument(`page_size is at most ${MAX_PAGE_SIZE}`);
  return requested || DEFAULT_PAGE_SIZE;
}

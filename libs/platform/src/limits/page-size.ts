/** Every paged list RPC: page_size 0 means the default; the contract (`uint32.lte`) refuses more than the maximum. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** The page size to use for a request's page_size. */
export function pageSize(requested: number): number {
  return requested || DEFAULT_PAGE_SIZE;
}

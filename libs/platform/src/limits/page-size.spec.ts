import { Code } from '@connectrpc/connect';
import { connectErrorThrownBy } from '@parley/testing';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageSize } from './page-size.js';

describe('pageSize', () => {
  it('takes 0 as the default and anything up to the maximum as asked', () => {
    expect([pageSize(0), pageSize(1), pageSize(MAX_PAGE_SIZE)]).toEqual([DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE]);
  });

  it('refuses more than the maximum with INVALID_ARGUMENT', () => {
    const err = connectErrorThrownBy(() => pageSize(MAX_PAGE_SIZE + 1));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, `page_size is at most ${MAX_PAGE_SIZE}`]);
  });
});

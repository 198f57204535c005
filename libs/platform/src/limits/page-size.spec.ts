import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageSize } from './page-size.js';

describe('pageSize', () => {
  it('takes 0 as the default and anything up to the maximum as asked', () => {
    expect([pageSize(0), pageSize(1), pageSize(MAX_PAGE_SIZE)]).toEqual([DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE]);
  });
});

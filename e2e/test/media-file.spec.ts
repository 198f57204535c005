import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mediaSuite } from './support/media-suite.js';

// Media on its default provider, the local filesystem (the test stack's own directory).
mediaSuite({
  name: 'file',
  async setUp(stack) {
    return { env: {}, blobs: { exists: async (id) => [id, `${id}.json`].some((name) => existsSync(join(stack().mediaDir, name))) } };
  },
  async tearDown() {},
});

import { runService } from '@parley/platform';
import { MediaService } from '@parley/proto';
import { mediaConfigSchema } from './config.js';
import { database } from './database.js';
import { buildMediaDeps } from './deps.js';
import { startGarbageCollector } from './domain/collect-garbage.js';
import { accountDeletedConsumer } from './events/consumers/account-deleted.consumer.js';
import { conversationMembersChangedConsumer } from './events/consumers/conversation-members-changed.consumer.js';
import { startMediaHttp } from './http/media-http.js';
import { mediaRoutes } from './rpc/media.routes.js';

void runService({
  name: 'media',
  config: mediaConfigSchema,
  database,
  bus: true,
  services: [MediaService.typeName],
  init: buildMediaDeps,
  tokens: 'remote',
  routes: (deps) => [mediaRoutes(deps)],
  consumers: (deps) => [conversationMembersChangedConsumer, accountDeletedConsumer(deps)],
  // The tus uploads and downloads are plain HTTP, served on a port of their own behind the edge.
  async start(deps) {
    const http = await startMediaHttp(deps);
    const gc = startGarbageCollector(deps);
    deps.log.info({ httpPort: http.port }, 'media serving uploads and downloads');
    return {
      async close(graceMs: number) {
        gc.stop();
        await http.close(graceMs);
        await deps.uploadLocks.close();
      },
    };
  },
});

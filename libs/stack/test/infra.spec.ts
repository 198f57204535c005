import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { databaseUrl, natsReachable, postgresReachable, startNatsServer } from '../src/infra.js';
import { freePort } from '../src/free-port.js';

jest.setTimeout(30_000);

describe('startNatsServer', () => {
  let storeDir: string;
  beforeEach(() => (storeDir = mkdtempSync(join(tmpdir(), 'parley-stack-nats-'))));
  afterEach(() => rmSync(storeDir, { recursive: true, force: true }));

  it('comes back after a stop on the same port with its JetStream data, and restart while running changes nothing', async () => {
    const nats = await startNatsServer({ storeDir });
    try {
      let nc = await connect({ servers: nats.url });
      await (await jetstreamManager(nc)).streams.add({ name: 'KEEP', subjects: ['keep.>'] });
      await nc.close();

      await nats.restart();
      await nats.stop();
      expect(await natsReachable(nats.url)).toBe(false);
      await nats.restart();
      expect(await natsReachable(nats.url)).toBe(true);

      nc = await connect({ servers: nats.url });
      const info = await (await jetstreamManager(nc)).streams.info('KEEP');
      expect(info.config.subjects).toEqual(['keep.>']);
      await nc.close();
    } finally {
      await nats.stop();
    }
    expect(await natsReachable(nats.url)).toBe(false);
  });
});

describe('reachability', () => {
  it('tells a live PostgreSQL from a closed port', async () => {
    expect(await postgresReachable('postgres://postgres@127.0.0.1:5432/postgres')).toBe(true);
    expect(await postgresReachable(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`)).toBe(false);
  });

  it('replaces only the database of a URL', () => {
    expect(databaseUrl('postgres://u:p@db:6543/postgres?sslmode=require', 'parley_auth')).toBe('postgres://u:p@db:6543/parley_auth?sslmode=require');
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as deliveryWindow from './delivery-window.js';
import * as pageSize from './page-size.js';
import * as proofOfWork from './proof-of-work.js';
import * as signalIds from './signal-ids.js';

/** The limits a client must know, which the proto states in its comments as `NAME (value)`. */
const LIMITS: Record<string, unknown> = { ...deliveryWindow, ...pageSize, ...proofOfWork, ...signalIds };
const NUMERIC = Object.entries(LIMITS).filter(([, v]) => typeof v === 'number') as [string, number][];

const PROTO_ROOT = join(__dirname, '../../../../proto/parley');
const protoComments = readdirSync(PROTO_ROOT, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.proto'))
  .flatMap((f) =>
    readFileSync(join(PROTO_ROOT, f), 'utf8')
      .split('\n')
      .filter((line) => line.trim().startsWith('//'))
      .map((line) => ({ file: f, line })),
  );
const mentions = protoComments.flatMap(({ file, line }) =>
  [...line.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+) \((\d+)\)/g)].map(([, name, value]) => ({ file, name: name!, value: Number(value) })),
);

describe('limits stated in the proto', () => {
  it('reads the proto comments', () => {
    expect(protoComments.length).toBeGreaterThan(100);
  });

  it.each(NUMERIC)('mentions %s', (name) => {
    expect(mentions.map((m) => m.name)).toContain(name);
  });

  it('gives each mentioned limit its value here, and names only limits that exist', () => {
    const wrong = mentions.filter((m) => LIMITS[m.name] !== m.value).map((m) => `${m.file}: ${m.name} (${m.value})`);
    expect(wrong).toEqual([]);
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getOption, type DescField, type DescFile } from '@bufbuild/protobuf';
import { field as fieldRules } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import * as contracts from '@parley/proto';
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

/** Every field of every message in the generated contracts, with its protovalidate rules. */
const ruledFields = Object.values(contracts)
  .filter((v): v is DescFile => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'file')
  .flatMap((file) => file.messages.flatMap((m) => [m, ...m.nestedMessages]))
  .flatMap((message) => message.fields.map((f) => ({ name: `${message.typeName}.${f.name}`, field: f, rules: getOption(f, fieldRules) })));

/** The upper bound a field's rules set on a uint32 (or on each item of a repeated uint32). */
function uint32Max(f: DescField): number | undefined {
  const rules = getOption(f, fieldRules);
  const r = rules.type.case === 'repeated' ? rules.type.value.items?.type : rules.type;
  if (r?.case !== 'uint32') return undefined;
  const bound = r.value.lessThan;
  return bound.case === 'lte' ? bound.value : bound.case === 'lt' ? bound.value - 1 : undefined;
}

/** Which limit bounds a field, by its name. */
const BOUND_BY_NAME: [RegExp, string][] = [
  [/(^|\.|_)device_id$/, 'MAX_DEVICE_ID'],
  [/(^|\.)registration_id$/, 'MAX_REGISTRATION_ID'],
  [/\.page_size$/, 'MAX_PAGE_SIZE'],
  [/^parley\.messaging\.v1\.FetchDeliveriesRequest\.limit$/, 'MAX_DELIVERIES_IN_FLIGHT'],
];

describe("limits in the requests' field rules", () => {
  it('finds the rules', () => {
    expect(ruledFields.filter((f) => f.rules.type.case !== undefined || f.rules.required).length).toBeGreaterThan(50);
  });

  it.each(BOUND_BY_NAME)('bounds every request field matching %s by %s', (pattern, limit) => {
    const requestFields = ruledFields.filter((f) => pattern.test(f.name) && /Request\.|OutgoingEnvelope\./.test(f.name));
    expect(requestFields.length).toBeGreaterThan(0);
    expect(requestFields.map((f) => [f.name, uint32Max(f.field)])).toEqual(requestFields.map((f) => [f.name, LIMITS[limit]]));
  });

  it('holds in_flight_ids to the delivery window', () => {
    const inFlight = ruledFields.find((f) => f.name === 'parley.messaging.v1.FetchDeliveriesRequest.in_flight_ids')!;
    const rules = inFlight.rules.type;
    expect(rules.case === 'repeated' ? rules.value.maxItems : undefined).toBe(BigInt(deliveryWindow.MAX_DELIVERIES_IN_FLIGHT));
  });
});

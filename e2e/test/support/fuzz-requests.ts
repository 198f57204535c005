import { randomBytes } from 'node:crypto';
import { ScalarType, create, fromJson, toBinary, type DescField, type DescMessage, type DescMethod, type JsonValue } from '@bufbuild/protobuf';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { MAX_DEVICE_ID, MAX_REGISTRATION_ID } from '@parley/platform';

/** A seeded PRNG (mulberry32): the same seed gives the same requests. */
export type Rng = () => number;

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: Rng, values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;
const bytesOf = (rng: Rng, length: number) => Uint8Array.from({ length }, () => Math.floor(rng() * 0x100));

/** One raw HTTP request to the edge. */
export interface RawRequest {
  kind: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

const SEED_UUID = '6f1c9a52-1d2e-4b3c-8d4e-5f6a7b8c9d0e';
const NUMBERS: JsonValue[] = [0, 1, -1, MAX_DEVICE_ID, MAX_DEVICE_ID + 1, MAX_REGISTRATION_ID, MAX_REGISTRATION_ID + 1, 2 ** 31, 2 ** 32, 2 ** 53, 1.5, 1e300, '9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616', '-9223372036854775809', 'abc', true, null, []];
const STRINGS: JsonValue[] = ['', 'a', 'alice', '\u0000', 'al\u0000ce', '\u0007\u001b[2J', SEED_UUID, SEED_UUID.toUpperCase(), ` ${SEED_UUID}`, 'x'.repeat(300), '\ud800', '😀'.repeat(40), 12, false, null, {}];
const TIMESTAMPS: JsonValue[] = ['1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '10000-01-01T00:00:00Z', 'yesterday', 12];
const MALFORMED_JSON = ['{"', '[', 'null', '"text"', '{"a":1e400}', '\u0000', '{}}', '{"a":"\\ud800"}', '\xff\xfe'];

/** A page token that decodes to out-of-range numbers and times, as ListConversations' cursor reads. */
function pageToken(rng: Rng): string {
  const t = pick(rng, ['99999999999999999999', '-99999999999999999999', '0', '9223372036854775807', '1e10', 'x']);
  return Buffer.from(JSON.stringify({ t, id: pick(rng, [SEED_UUID, 'nope', 7]) })).toString('base64url');
}

/** A UUID from the seeded PRNG, upper or lower case. */
const uuidOf = (rng: Rng) => {
  const hex = Buffer.from(bytesOf(rng, 16)).toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return rng() < 0.2 ? id.toUpperCase() : id;
};

/** A value that keeps most contracts (a UUID, a small id, a short token), so the call reaches the use case and the database. */
function plausibleValue(rng: Rng, field: DescField, depth: number): JsonValue {
  const one = (): JsonValue => {
    if (field.name.endsWith('page_token')) return pageToken(rng);
    switch (field.fieldKind === 'list' ? field.listKind : field.fieldKind) {
      case 'scalar':
        switch (field.scalar) {
          case ScalarType.STRING:
            return pick(rng, [uuidOf(rng), uuidOf(rng), `fuzz_${Math.floor(rng() * 1000)}`, 'a']);
          case ScalarType.BYTES:
            return Buffer.from(bytesOf(rng, pick(rng, [1, 33, 64]))).toString('base64');
          case ScalarType.BOOL:
            return rng() < 0.5;
          default:
            return pick(rng, [1, 2, 3, MAX_DEVICE_ID, MAX_REGISTRATION_ID, 1000, '9223372036854775807']);
        }
      case 'enum':
        return pick(rng, [1, 2]);
      case 'message': {
        const message = field.message!;
        if (message.typeName === 'google.protobuf.Timestamp') return pick(rng, ['2030-01-01T00:00:00Z', '1970-01-01T00:00:00Z']);
        return depth < 2 ? jsonObject(rng, message, depth + 1, true) : {};
      }
      default:
        return null;
    }
  };
  return field.fieldKind === 'list' ? Array.from({ length: 1 + Math.floor(rng() * 3) }, one) : one();
}

/** A value for `field` in Connect's JSON, often of the wrong type or out of range. */
function jsonValue(rng: Rng, field: DescField, depth: number): JsonValue {
  const one = (): JsonValue => {
    if (field.name.endsWith('page_token') && rng() < 0.6) return pageToken(rng);
    switch (field.fieldKind === 'list' ? field.listKind : field.fieldKind) {
      case 'scalar':
        switch (field.scalar) {
          case ScalarType.STRING:
            return pick(rng, STRINGS);
          case ScalarType.BYTES:
            return pick(rng, [Buffer.from(bytesOf(rng, pick(rng, [0, 1, 33, 64, 1569, 5000]))).toString('base64'), '!!!', 3]);
          case ScalarType.BOOL:
            return pick(rng, [true, false, 'yes', 1]);
          default:
            return pick(rng, NUMBERS);
        }
      case 'enum':
        return pick(rng, [0, 1, 2, 3, 99, -1, 'NOPE', ...(field.enum?.values.map((v) => v.name) ?? [])]);
      case 'message': {
        const message = field.message!;
        if (message.typeName === 'google.protobuf.Timestamp') return pick(rng, TIMESTAMPS);
        return depth < 2 && rng() < 0.7 ? jsonObject(rng, message, depth + 1) : pick(rng, [{}, null, 'x', []]);
      }
      default:
        return null;
    }
  };
  if (field.fieldKind !== 'list') return one();
  return rng() < 0.9 ? Array.from({ length: Math.floor(rng() * 4) }, one) : one();
}

function jsonObject(rng: Rng, desc: DescMessage, depth = 0, plausible = false): Record<string, JsonValue> {
  const object: Record<string, JsonValue> = {};
  for (const field of desc.fields) {
    if (plausible) object[field.jsonName] = plausibleValue(rng, field, depth);
    else if (rng() < 0.8) object[field.jsonName] = jsonValue(rng, field, depth);
  }
  if (!plausible && rng() < 0.1) object.notAField = 1;
  return object;
}

/** The binary form of a random message of `desc` (whatever of it the JSON parser takes), then mutated. */
function mutatedBinary(rng: Rng, desc: DescMessage): Uint8Array {
  let message = create(desc);
  try {
    message = fromJson(desc, jsonObject(rng, desc), { ignoreUnknownFields: true });
  } catch {
    // Not a valid message: the empty one is mutated instead.
  }
  const bytes = [...toBinary(desc, message)];
  for (let n = Math.floor(rng() * 4); n >= 0; n--) {
    const at = Math.floor(rng() * (bytes.length + 1));
    switch (pick(rng, ['flip', 'cut', 'insert', 'varint'])) {
      case 'flip':
        if (bytes.length) bytes[at % bytes.length]! ^= 1 << Math.floor(rng() * 8);
        break;
      case 'cut':
        bytes.length = at;
        break;
      case 'insert':
        bytes.splice(at, 0, ...bytesOf(rng, 1 + Math.floor(rng() * 8)));
        break;
      case 'varint':
        // A field with an overlong varint, or a length past the end.
        bytes.splice(at, 0, 0x08, ...Array(11).fill(0xff), 0x12, 0x7f);
        break;
    }
  }
  return Uint8Array.from(bytes);
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A malformed (or merely odd) request for `method`, in one of the ways a client can get it wrong. */
export function fuzzRequest(rng: Rng, method: DescMethod): RawRequest {
  const path = `/${method.parent.typeName}/${method.name}`;
  const input = method.input;
  const json = () => utf8(rng() < 0.8 ? JSON.stringify(jsonObject(rng, input)) : pick(rng, MALFORMED_JSON));
  const binary = () => (rng() < 0.3 ? bytesOf(rng, Math.floor(rng() * 48)) : mutatedBinary(rng, input));
  const envelope = (payload: Uint8Array) => {
    switch (pick(rng, ['one', 'one', 'compressed', 'truncated', 'two', 'none', 'end-flag'])) {
      case 'compressed':
        return encodeEnvelope(1, payload);
      case 'truncated':
        return encodeEnvelope(0, payload).subarray(0, Math.floor(rng() * (payload.length + 5)));
      case 'two':
        return Uint8Array.from([...encodeEnvelope(0, payload), ...encodeEnvelope(0, payload)]);
      case 'none':
        return new Uint8Array();
      case 'end-flag':
        return encodeEnvelope(2, payload);
      default:
        return encodeEnvelope(0, payload);
    }
  };
  const streaming = method.methodKind === 'server_streaming';
  const kinds = streaming
    ? ['connect+proto', 'connect+proto', 'connect+json', 'connect+proto gzip', 'json to a stream', 'grpc-web']
    : ['proto', 'proto', 'json', 'json', 'plausible json', 'plausible json', 'proto gzip', 'json br', 'grpc-web'];
  const kind = pick(rng, kinds);
  switch (kind) {
    case 'proto':
      return { kind, path, headers: { 'content-type': 'application/proto' }, body: binary() };
    case 'json':
      return { kind, path, headers: { 'content-type': 'application/json' }, body: json() };
    case 'plausible json':
      return { kind, path, headers: { 'content-type': 'application/json' }, body: utf8(JSON.stringify(jsonObject(rng, input, 0, true))) };
    case 'proto gzip':
      return { kind, path, headers: { 'content-type': 'application/proto', 'content-encoding': 'gzip' }, body: binary() };
    case 'json br':
      return { kind, path, headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: json() };
    case 'connect+proto':
      return { kind, path, headers: { 'content-type': 'application/connect+proto' }, body: envelope(binary()) };
    case 'connect+json':
      return { kind, path, headers: { 'content-type': 'application/connect+json' }, body: envelope(json()) };
    case 'connect+proto gzip':
      return { kind, path, headers: { 'content-type': 'application/connect+proto', 'connect-content-encoding': 'gzip' }, body: envelope(binary()) };
    case 'json to a stream':
      return { kind, path, headers: { 'content-type': 'application/json' }, body: json() };
    default:
      return { kind, path, headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' }, body: envelope(binary()) };
  }
}

/** A random seed, unless FUZZ_SEED names the one to replay. */
export function fuzzSeed(): number {
  return process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomBytes(4).readUInt32BE();
}

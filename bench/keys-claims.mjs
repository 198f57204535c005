// Measures prekey claims (KeyService/GetPreKeyBundles for one device, through the edge) beside what
// bounds them, measured in the same run at the same concurrency: PostgreSQL's rate of raw
// single-row UPDATEs, each its own transaction, in a scratch table of a scratch database.
// - Each claim takes one one-time EC and one one-time Kyber prekey of a device that holds plenty
//   of both; the run checks that every measured claim got one of each, and none twice.
// - The per-(requester, target) claim limiter is raised for the run: this measures the claim path,
//   not the limiter.
// - GetPreKeyCounts (one small read, same edge and token checks) shows what the path alone costs.
// - A claim also proves the device's identity key in the identity log, so the claims are measured
//   again after the log is grown to LOG_LEAVES leaves (hashes inserted straight into keys' table,
//   after the real ones, as if that many devices had published keys).
// Run: npm run build && npm exec -- node bench/keys-claims.mjs
import { AuthService, DeviceService, KeyService } from '@parley/proto';
import { databaseUrl } from '@parley/stack';
import { Accounts, edgeClient, startTestStack, untilDevicesKnown } from '@parley/testing';
import { IdentityKeyPair, KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client';
import pg from 'pg';
import { header, measure, row } from './support/measure.mjs';

const CONCURRENCY = 50;
const TARGETS = 10;
const BATCH = 100; // keys' MAX_PRE_KEYS_PER_UPLOAD default
const KEYS_PER_TARGET = 400; // of each kind
const WARMUP_CLAIMS = 200;
const CLAIMS = 2500;
const LOG_LEAVES = 10000;
const BIG_LOG_CLAIMS = 300;
const UPDATES = 10000;
const KEYS_POOL_MAX = 10; // keys' DATABASE_POOL_MAX default

/** libsignal keys for one device: the first upload, then batches of one-time keys, all signed by its identity key. */
function uploads(firstKeyId) {
  const identity = IdentityKeyPair.generate();
  let keyId = firstKeyId;
  const signed = (publicKey) => ({ keyId: keyId++, publicKey, signature: identity.privateKey.sign(publicKey) });
  const batch = () => ({
    identityKey: identity.publicKey.serialize(),
    preKeys: Array.from({ length: BATCH }, () => ({ keyId: keyId++, publicKey: PrivateKey.generate().getPublicKey().serialize() })),
    pqPreKeys: Array.from({ length: BATCH }, () => signed(KEMKeyPair.generate().getPublicKey().serialize())),
  });
  const first = {
    ...batch(),
    signedPreKey: signed(PrivateKey.generate().getPublicKey().serialize()),
    pqLastResortPreKey: signed(KEMKeyPair.generate().getPublicKey().serialize()),
  };
  return [first, ...Array.from({ length: KEYS_PER_TARGET / BATCH - 1 }, batch)];
}

async function rawUpdates(stack, poolMax) {
  const name = stack.isolation.database(`bench_updates_${poolMax}`);
  const admin = new pg.Client({ connectionString: stack.isolation.pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: databaseUrl(stack.isolation.pgUrl, name), max: poolMax });
  try {
    await pool.query('CREATE TABLE scratch (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)');
    await pool.query('INSERT INTO scratch (id) SELECT generate_series(0, $1)', [UPDATES]);
    const update = (i) => pool.query('UPDATE scratch SET n = n + 1 WHERE id = $1', [i]);
    await measure(WARMUP_CLAIMS, CONCURRENCY, update);
    return await measure(UPDATES, CONCURRENCY, update);
  } finally {
    await pool.end();
  }
}

const stack = await startTestStack({
  services: ['auth', 'keys', 'edge'],
  env: { keys: { PREKEY_CLAIMS_PER_TARGET: '1000000' } },
});
try {
  const accounts = new Accounts({ auth: edgeClient(AuthService, stack.edgeUrl), devices: edgeClient(DeviceService, stack.edgeUrl) });
  const register = async (username) => {
    const device = await accounts.register({ username });
    return { ...device, keys: edgeClient(KeyService, stack.edgeUrl, { accessToken: device.tokens.accessToken }) };
  };
  const requester = await register('bench_requester');
  const targets = [];
  for (let t = 0; t < TARGETS; t++) {
    const target = await register(`bench_target_${t}`);
    // keys takes uploads only from devices it has learned from auth.device.added.
    await untilDevicesKnown(stack, 'keys', [target]);
    for (const request of uploads(1)) await target.keys.uploadKeys(request);
    targets.push(target);
  }

  const handedOut = new Set();
  let missing = 0;
  const claim = async (i) => {
    const { bundles } = await requester.keys.getPreKeyBundles({ userId: targets[i % TARGETS].userId, deviceId: 1 });
    const [bundle] = bundles;
    if (!bundle?.preKey || bundle.pqPreKeyIsLastResort) {
      missing++;
      return;
    }
    const id = `${i % TARGETS}/${bundle.preKey.keyId}`;
    if (handedOut.has(id)) throw new Error(`one-time prekey ${id} was handed out twice`);
    handedOut.add(id);
  };
  await measure(WARMUP_CLAIMS, CONCURRENCY, claim);
  const claims = await measure(CLAIMS, CONCURRENCY, claim);
  const counts = await measure(CLAIMS, CONCURRENCY, () => requester.keys.getPreKeyCounts({}));

  const logSize = async () => Number((await requester.keys.getTreeHead({})).treeHead.treeSize);
  const smallLog = await logSize();
  await stack.query(
    'keys',
    `insert into identity_log_entry (leaf_index, leaf_hash)
     select (select max(leaf_index) from identity_log_entry) + g, sha256(int8send(g)) from generate_series(1, $1) g`,
    [LOG_LEAVES - smallLog],
  );
  if ((await logSize()) !== LOG_LEAVES) throw new Error(`the log did not grow to ${LOG_LEAVES} leaves`);
  const bigLogClaims = await measure(BIG_LOG_CLAIMS, CONCURRENCY, claim);
  if (missing > 0) throw new Error(`${missing} claims found no one-time key: upload more per target`);

  const updates = await rawUpdates(stack, CONCURRENCY);
  const updatesOnKeysPool = await rawUpdates(stack, KEYS_POOL_MAX);

  header(`${CONCURRENCY} in flight; claims spread over ${TARGETS} devices holding ${KEYS_PER_TARGET} one-time keys of each kind`);
  row(`baseline: raw PostgreSQL single-row UPDATE, ${CONCURRENCY} connections`, updates);
  row(`baseline: the same on ${KEYS_POOL_MAX} connections (keys' pool size)`, updatesOnKeysPool, updates);
  row(`GetPreKeyBundles claim through the edge, log of ${smallLog} leaves`, claims, updates);
  row(`GetPreKeyCounts through the edge (the path alone)`, counts, updates);
  row(`GetPreKeyBundles claim, log of ${LOG_LEAVES} leaves`, bigLogClaims, updates);
} finally {
  await stack.cleanup();
}

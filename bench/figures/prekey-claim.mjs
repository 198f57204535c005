// Prekey claims through the edge (KeyService/GetPreKeyBundles for one device), IN_FLIGHT at a time,
// beside raw PostgreSQL single-row UPDATEs (pgbench, each its own transaction) with as many
// clients, half before and half after. Each claim takes one one-time EC and one one-time Kyber prekey of one of TARGETS
// devices, which hold KEYS_PER_TARGET of each; the run checks every claim got one of each, and
// none twice. The per-(requester, target) claim limit is raised: this measures the claim, not the
// limiter.
import { untilDevicesKnown } from '@parley/testing';
import { IdentityKeyPair, KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client';
import { cpuLine } from '../support/cpu.mjs';
import { measure } from '../support/measure.mjs';
import { signedInAccounts } from '../support/messaging.mjs';
import { bracketed, updateRow } from '../support/pgbench.mjs';
import { latencies, num, perSecond, row } from '../support/table.mjs';

const IN_FLIGHT = 16;
const TARGETS = 20;
const BATCH = 100; // keys' MAX_PRE_KEYS_PER_UPLOAD default
const KEYS_PER_TARGET = 400; // of each kind: the claims stop when they run out, or after SECONDS
const WARMUP_CLAIMS = 100;
const SECONDS = 8;
const PGBENCH_SECONDS = 6;

/** libsignal keys for one device: the first upload, then batches of one-time keys, all signed by its identity key. */
function uploads() {
  const identity = IdentityKeyPair.generate();
  let keyId = 1;
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

export default {
  name: 'prekeyClaim',
  about: `GetPreKeyBundles claims through the edge, ${IN_FLIGHT} in flight, beside raw PostgreSQL single-row UPDATEs`,
  services: ['auth', 'keys', 'edge'],
  env: { keys: { PREKEY_CLAIMS_PER_TARGET: '1000000' } },
  async run(ctx) {
    const { keys } = ctx.clients;
    const [requester, ...targets] = (await signedInAccounts(ctx.stack, ctx.clients, 'prekey', TARGETS + 1, 1, { awaitMessaging: false })).map(([d]) => d);
    // keys takes uploads only from devices it has learned from auth.device.added.
    await untilDevicesKnown(ctx.stack, 'keys', targets);
    await Promise.all(
      targets.map(async (target) => {
        for (const request of uploads()) await keys.uploadKeys(request, target.as);
      }),
    );
    ctx.note(`${TARGETS} devices hold ${KEYS_PER_TARGET} one-time keys of each kind`);

    const handedOut = new Set();
    let missing = 0;
    const claim = async (i) => {
      const { bundles } = await keys.getPreKeyBundles({ userId: targets[i % TARGETS].userId, deviceId: 1 }, requester.as);
      const [bundle] = bundles;
      if (!bundle?.preKey || bundle.pqPreKeyIsLastResort) {
        missing++;
        return;
      }
      const id = `${i % TARGETS}/${bundle.preKey.keyId}`;
      if (handedOut.has(id)) throw new Error(`one-time prekey ${id} was handed out twice`);
      handedOut.add(id);
    };
    await measure(IN_FLIGHT, claim, { total: WARMUP_CLAIMS });
    let used;
    const [claims, updates] = await bracketed(await ctx.scratchDatabase(), updateRow, { clients: IN_FLIGHT, seconds: PGBENCH_SECONDS }, async () => {
      const cpu = ctx.startCpu();
      const measured = await measure(IN_FLIGHT, claim, { total: TARGETS * KEYS_PER_TARGET - WARMUP_CLAIMS, seconds: SECONDS });
      used = cpu.stop();
      return measured;
    });
    if (missing > 0) throw new Error(`${missing} claims found no one-time key: upload more per target`);
    ctx.note(`claims: ${perSecond(claims)}, ${latencies(claims)}; ${cpuLine(used, claims.samples, 'claim')}`);
    return [
      row(`prekey claim (GetPreKeyBundles, one device) through the edge, ${IN_FLIGHT} in flight`, `${perSecond(claims, ' claims/s')} (${latencies(claims)}; Parley CPU ${num(used.parley / claims.samples)} ms/claim)`, `raw PostgreSQL single-row UPDATE (pgbench), ${IN_FLIGHT} clients: ${perSecond(updates, ' tps')} (${latencies(updates)})`, {
        ratio: claims.perSecond / updates.perSecond,
        samples: `${num(claims.samples)} claims; ${num(updates.samples)} txns`,
      }),
    ];
  },
};

import { KeyFormatError, checkEcPublicKey, checkKyberPublicKey, checkSignature, verifyXEdDSA } from '@parley/crypto';
import { rpcError } from '@parley/platform';

interface RawPreKey {
  keyId: number;
  publicKey: Uint8Array;
}
interface RawSignedPreKey extends RawPreKey {
  signature: Uint8Array;
}

/** What UploadKeys carries, as the wire gives it. */
export interface UploadKeysRequestLike {
  identityKey: Uint8Array;
  signedPreKey?: RawSignedPreKey;
  pqLastResortPreKey?: RawSignedPreKey;
  preKeys: RawPreKey[];
  pqPreKeys: RawSignedPreKey[];
}

export interface SignedKey {
  keyId: number;
  publicKey: Buffer;
  signature: Buffer;
}

/** An upload whose every key is well-formed and every signature verifies against its identity key. */
export interface UploadInput {
  identityKey: Buffer;
  signedPreKey?: SignedKey;
  lastResort?: SignedKey;
  preKeys: { keyId: number; publicKey: Buffer }[];
  pqPreKeys: SignedKey[];
}

/**
 * Checks an upload without touching the database: formats, batch sizes, ids repeated within the
 * upload, and every signature, each refusal naming the field it is about.
 */
export function parseUploadInput(req: UploadKeysRequestLike, maxPerUpload: number): UploadInput {
  try {
    return parse(req, maxPerUpload);
  } catch (err) {
    if (err instanceof KeyFormatError) throw rpcError.invalidArgument(err.message);
    throw err;
  }
}

function parse(req: UploadKeysRequestLike, maxPerUpload: number): UploadInput {
  checkEcPublicKey(req.identityKey, 'identity_key');
  const identityKey = req.identityKey;

  const signed = (key: RawSignedPreKey, what: string, kind: 'ec' | 'kyber'): SignedKey => {
    if (kind === 'ec') checkEcPublicKey(key.publicKey, `${what}.public_key`);
    else checkKyberPublicKey(key.publicKey, `${what}.public_key`);
    checkSignature(key.signature, `${what}.signature`);
    if (!verifyXEdDSA(identityKey, key.publicKey, key.signature)) {
      throw rpcError.invalidArgument(`signature of ${what} (key id ${key.keyId}) does not verify against identity_key`);
    }
    return { keyId: key.keyId, publicKey: Buffer.from(key.publicKey), signature: Buffer.from(key.signature) };
  };

  for (const [field, list] of [['pre_keys', req.preKeys], ['pq_pre_keys', req.pqPreKeys]] as const) {
    if (list.length > maxPerUpload) throw rpcError.invalidArgument(`at most ${maxPerUpload} ${field} per upload (got ${list.length})`);
  }
  const signedPreKey = req.signedPreKey && signed(req.signedPreKey, 'signed_pre_key', 'ec');
  const lastResort = req.pqLastResortPreKey && signed(req.pqLastResortPreKey, 'pq_last_resort_pre_key', 'kyber');
  const preKeys = req.preKeys.map((key, i) => {
    checkEcPublicKey(key.publicKey, `pre_keys[${i}]`);
    return { keyId: key.keyId, publicKey: Buffer.from(key.publicKey) };
  });
  const pqPreKeys = req.pqPreKeys.map((key, i) => signed(key, `pq_pre_keys[${i}]`, 'kyber'));

  requireUniqueIds('pre_keys', preKeys);
  // Kyber ids share one namespace on the client (one KyberPreKeyStore), the last-resort key's included.
  requireUniqueIds('pq_pre_keys', pqPreKeys, lastResort?.keyId);
  return { identityKey: Buffer.from(identityKey), signedPreKey, lastResort, preKeys, pqPreKeys };
}

function requireUniqueIds(field: string, keys: { keyId: number }[], lastResortId?: number): void {
  const seen = new Set<number>();
  keys.forEach(({ keyId }, i) => {
    if (seen.has(keyId)) throw rpcError.invalidArgument(`${field}[${i}] repeats key id ${keyId}`);
    if (keyId === lastResortId) throw rpcError.invalidArgument(`${field}[${i}] has the key id of pq_last_resort_pre_key (${keyId})`);
    seen.add(keyId);
  });
}

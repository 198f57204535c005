import * as crypto from './index';

describe('@parley/crypto public API', () => {
  it('exports every function and constant the keys service and clients use', () => {
    const functions = [
      'checkEcPublicKey',
      'checkKyberPublicKey',
      'checkSignature',
      'cryptoReady',
      'verifyXEdDSA',
      'leafHash',
      'nodeHash',
      'rootHash',
      'inclusionProof',
      'verifyInclusion',
      'consistencyProof',
      'verifyConsistency',
      'treeHeadBytes',
      'newLogKeyPair',
      'signTreeHead',
      'verifyTreeHead',
      'logPublicKeyFromSecret',
      'isFork',
      'identityLogEntry',
      'verifyIdentityKeyInclusion',
      'KeyFormatError',
      'MerkleTree',
    ] as const;
    for (const name of functions) expect(typeof crypto[name]).toBe('function');
    expect([
      crypto.EC_PUBLIC_KEY_LENGTH,
      crypto.KYBER1024_PUBLIC_KEY_LENGTH,
      crypto.SIGNATURE_LENGTH,
      crypto.EC_KEY_TYPE,
      crypto.KYBER1024_KEY_TYPE,
    ]).toEqual([33, 1569, 64, 0x05, 0x08]);
  });
});

import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { InclusionProofSchema, PreKeyBundleSchema, SignedTreeHeadSchema, type PreKeyBundle, type SignedTreeHead } from '@parley/proto';
import type { ClaimedBundle } from '../domain/get-pre-key-bundles.usecase.js';
import { IdentityLog, type LogSnapshot, type SignedHead } from '../domain/identity-log.js';

export function toSignedTreeHead(head: SignedHead): SignedTreeHead {
  return create(SignedTreeHeadSchema, {
    treeSize: BigInt(head.treeSize),
    rootHash: head.rootHash,
    timestamp: timestampFromMs(head.timestampMs),
    signature: head.signature,
  });
}

export function toPreKeyBundle(b: ClaimedBundle, logSnapshot: LogSnapshot): PreKeyBundle {
  return create(PreKeyBundleSchema, {
    deviceId: b.deviceId,
    registrationId: b.registrationId,
    identityKey: b.identityKey,
    signedPreKey: b.signedPreKey,
    pqPreKey: b.pqPreKey,
    pqPreKeyIsLastResort: b.pqPreKeyIsLastResort,
    preKey: b.preKey,
    identityKeyProof: create(InclusionProofSchema, {
      leafIndex: BigInt(b.logIndex),
      auditPath: IdentityLog.inclusionProof(logSnapshot, b.logIndex),
      treeHead: toSignedTreeHead(logSnapshot.head),
    }),
  });
}

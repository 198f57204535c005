import { BigIntType, EntitySchema } from '@mikro-orm/core';

/**
 * One leaf of the identity key log: only its RFC 6962 leaf hash. The leaf itself (user id, device
 * id, identity key) is not kept, so a deleted account leaves no readable trace here; the
 * (user, device) → index link lives in device_keys and goes with the device.
 */
export interface IdentityLogEntry {
  leafIndex: number;
  leafHash: Buffer;
}

export const IdentityLogEntrySchema = new EntitySchema<IdentityLogEntry>({
  name: 'IdentityLogEntry',
  tableName: 'identity_log_entry',
  properties: {
    leafIndex: { type: new BigIntType('number'), primary: true, autoincrement: false },
    leafHash: { type: 'blob' },
  },
});

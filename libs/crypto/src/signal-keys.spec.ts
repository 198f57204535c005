import {
  checkEcPublicKey,
  checkKyberPublicKey,
  checkSignature,
  EC_PUBLIC_KEY_LENGTH,
  KeyFormatError,
  KYBER1024_PUBLIC_KEY_LENGTH,
} from './signal-keys';

function key(length: number, type: number): Uint8Array {
  const k = new Uint8Array(length).fill(0xab);
  if (length > 0) k[0] = type;
  return k;
}

function errorOf(f: () => void): KeyFormatError {
  try {
    f();
  } catch (err) {
    if (err instanceof KeyFormatError) return err;
    throw err;
  }
  throw new Error('expected a KeyFormatError');
}

describe('checkEcPublicKey', () => {
  it('accepts 33 bytes starting with 0x05', () => {
    expect(() => checkEcPublicKey(key(EC_PUBLIC_KEY_LENGTH, 0x05), 'identity_key')).not.toThrow();
  });

  it('names the field and the length it got', () => {
    const err = errorOf(() => checkEcPublicKey(new Uint8Array(32), 'identity_key'));
    expect(err.message).toBe('identity_key must be 33 bytes (0x05 and a Curve25519 key), got 32');
    expect(err.name).toBe('KeyFormatError');
    expect(err).toBeInstanceOf(Error);
    expect(errorOf(() => checkEcPublicKey(key(34, 0x05), 'signed_pre_key')).message).toMatch(/^signed_pre_key .* got 34$/);
    expect(errorOf(() => checkEcPublicKey(new Uint8Array(0), 'k')).message).toMatch(/got 0$/);
  });

  it('rejects another type byte, including Kyber’s', () => {
    expect(errorOf(() => checkEcPublicKey(key(33, 0x08), 'identity_key')).message).toBe(
      'identity_key must start with type byte 0x05',
    );
    expect(() => checkEcPublicKey(key(33, 0x00), 'identity_key')).toThrow(KeyFormatError);
  });
});

describe('checkKyberPublicKey', () => {
  it('accepts 1569 bytes starting with 0x08', () => {
    expect(() => checkKyberPublicKey(key(KYBER1024_PUBLIC_KEY_LENGTH, 0x08), 'kyber_pre_key')).not.toThrow();
  });

  it('rejects other lengths and type bytes, naming the field', () => {
    expect(errorOf(() => checkKyberPublicKey(key(1568, 0x08), 'kyber_pre_key')).message).toBe(
      'kyber_pre_key must be 1569 bytes (0x08 and a Kyber1024 key), got 1568',
    );
    expect(errorOf(() => checkKyberPublicKey(key(1569, 0x05), 'last_resort')).message).toBe(
      'last_resort must start with type byte 0x08',
    );
    expect(() => checkKyberPublicKey(key(33, 0x05), 'kyber_pre_key')).toThrow(KeyFormatError);
  });
});

describe('checkSignature', () => {
  it('accepts exactly 64 bytes', () => {
    expect(() => checkSignature(new Uint8Array(64), 'signature')).not.toThrow();
    expect(errorOf(() => checkSignature(new Uint8Array(63), 'signed_pre_key.signature')).message).toBe(
      'signed_pre_key.signature must be 64 bytes, got 63',
    );
    expect(() => checkSignature(new Uint8Array(65), 'signature')).toThrow(KeyFormatError);
  });
});

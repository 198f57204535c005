#!/usr/bin/env node
/** Prints a new KEYS_LOG_SIGNING_KEY: base64 of a 64-byte Ed25519 secret key. Keep it secret. */
import { cryptoReady, newLogKeyPair } from '@parley/crypto';

void cryptoReady().then(() => {
  const { secretKey } = newLogKeyPair();
  process.stdout.write(`${Buffer.from(secretKey).toString('base64')}\n`);
});

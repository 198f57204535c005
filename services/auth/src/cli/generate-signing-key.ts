#!/usr/bin/env node
/** Prints a new Ed25519 private JWK for AUTH_SIGNING_KEY. Keep it secret. */
import { newSigningKey } from '@parley/platform';

process.stdout.write(`${newSigningKey()}\n`);

/**
 * The one place libsodium is loaded. libsodium-wrappers attaches its functions to the module
 * object only once `ready` resolves, so this keeps the live module object (a default import,
 * not a namespace import, which would copy the properties present at import time) and hands
 * it out only after cryptoReady().
 */
import sodiumModule from 'libsodium-wrappers';

let loaded = false;

/** Loads libsodium. Await it once before any signature function; later calls return at once. */
export async function cryptoReady(): Promise<void> {
  if (loaded) return;
  await sodiumModule.ready;
  loaded = true;
}

/** libsodium, or a clear error if cryptoReady() has not finished. */
export function readySodium(caller: string): typeof sodiumModule {
  if (!loaded) {
    throw new Error(`@parley/crypto: await cryptoReady() before calling ${caller}`);
  }
  return sodiumModule;
}

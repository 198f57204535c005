import type { PeerDevice } from './crypto.js';
import type { IncomingMessage, Retraction } from './content.js';

/** What the client tells the app, besides the messages themselves. */
export interface ClientEvents {
  /** The session ended: a refused refresh, a revoked session or logout. Log in again. */
  loggedOut: (reason: string) => void;
  /** A peer device's identity key changed: its safety number changed. */
  safetyNumberChanged: (peer: PeerDevice) => void;
  /** The key-transparency log showed two histories: report it, trust nothing new from it. */
  logForked: (detail: string) => void;
  /**
   * A send found the conversation's devices changed (DeviceMismatch) and fixed its envelopes
   * itself: sessions with the new devices, none with the removed ones.
   */
  devicesRepaired: (repair: { conversationId: string; missing: PeerDevice[]; extra: PeerDevice[]; stale: PeerDevice[] }) => void;
  /** A message arrived (in each conversation's seq order). */
  message: (message: IncomingMessage) => void;
  /** A sender deleted a message for everyone. */
  retracted: (retraction: Retraction) => void;
  /** Someone is typing (or stopped) in a conversation. */
  typing: (typing: { conversationId: string; userId: string; deviceId: number; typing: boolean }) => void;
  /** A receive stream's state changed. */
  connection: (state: 'connecting' | 'open' | 'reconnecting' | 'closed', detail?: string) => void;
  /** Something went wrong in the background (an ack, a prekey top-up); the client keeps going. */
  error: (error: Error) => void;
}

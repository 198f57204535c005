import { createHash } from 'node:crypto';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, type EventType } from '@parley/platform';
import { AuthService, DeviceService } from '@parley/proto';
import { Accounts, eventually, serviceClient, startTestStack, type TestStack } from '@parley/testing';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The session an access token belongs to (its `sid` claim). */
export function sessionIdOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).sid;
}

/** An auth process of its own, gRPC clients straight to it, accounts made with them, and a look at the run's event stream. */
export class DeviceTestRig {
  private constructor(
    readonly stack: TestStack,
    readonly auth: Client<typeof AuthService>,
    readonly devices: Client<typeof DeviceService>,
    readonly accounts: Accounts,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<DeviceTestRig> {
    const stack = await startTestStack({ services: ['auth'], env: { auth: env } });
    const auth = serviceClient(AuthService, stack, 'auth');
    const devices = serviceClient(DeviceService, stack, 'auth');
    const nc = await connect({ servers: stack.natsUrl });
    return new DeviceTestRig(stack, auth, devices, new Accounts({ auth, devices }), nc, await jetstreamManager(nc));
  }

  async stop(): Promise<void> {
    await this.nc.close();
    await this.stack.cleanup();
  }

  /** The latest event of `type` on the run's stream, once it is the one `wanted` looks for. */
  async lastEvent<D extends DescMessage>(type: EventType<D>, wanted: (payload: MessageShape<D>) => boolean): Promise<MessageShape<D>> {
    const subject = this.stack.isolation.subjects.of(type);
    const payload = await eventually(
      async () => {
        const msg = await this.jsm.streams.getMessage(this.stack.isolation.subjects.stream, { last_by_subj: subject });
        return msg ? decodeEvent(type, msg.data).payload : undefined;
      },
      (p) => p !== undefined && wanted(p),
    );
    return payload!;
  }
}

import { createHash } from 'node:crypto';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, type EventType } from '@parley/platform';
import { AuthService, DeviceService } from '@parley/proto';
import { eventually, startTestStack, type TestStack, type TestStackOptions } from '@parley/testing';

export const password = 'correct horse battery';

export function withToken(token: string) {
  return { headers: { authorization: `Bearer ${token}` } };
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The session an access token belongs to (its `sid` claim). */
export function sessionIdOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).sid;
}

/** An auth process of its own, gRPC clients straight to it, and a look at the run's event stream. */
export class DeviceTestRig {
  private n = 0;
  private constructor(
    readonly stack: TestStack,
    readonly auth: Client<typeof AuthService>,
    readonly devices: Client<typeof DeviceService>,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<DeviceTestRig> {
    const opts: TestStackOptions = { services: ['auth'], env: { auth: env } };
    const stack = await startTestStack(opts);
    const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${stack.services.auth.rpcPort}` });
    const nc = await connect({ servers: stack.natsUrl });
    return new DeviceTestRig(stack, createClient(AuthService, transport), createClient(DeviceService, transport), nc, await jetstreamManager(nc));
  }

  async stop(): Promise<void> {
    await this.nc.close();
    await this.stack.cleanup();
  }

  /** A new account; its primary device is named 'Phone'. */
  register(registrationId = 1111) {
    return this.auth.register({ username: `dev_${process.pid}_${++this.n}`, password, registrationId, deviceName: 'Phone' });
  }

  /** Links a device to the account of `accessToken` the way that needs no password: request, approve, complete. */
  async linkByApproval(accessToken: string, deviceName: string, registrationId = 2222) {
    const { code } = await this.devices.createLinkCode({}, withToken(accessToken));
    const request = await this.devices.linkDevice({ code, deviceName, registrationId });
    if (request.outcome.case !== 'approvalSecret') throw new Error('expected an approval secret');
    await this.devices.approveLink({ code }, withToken(accessToken));
    const { linked } = await this.devices.completeLink({ approvalSecret: request.outcome.value });
    return linked!;
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

import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const HEALTH_PROTO = join(__dirname, '../../../proto/grpc/health/v1/health.proto');

type HealthClient = grpc.Client & {
  check(req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

let HealthCtor: (new (address: string, creds: grpc.ChannelCredentials) => HealthClient) | undefined;

/** Asks grpc.health.v1.Health/Check with a plain @grpc/grpc-js client, as kubelet would. */
export function grpcHealthCheck(address: string, service = '', timeoutMs = 2000): Promise<string> {
  if (!HealthCtor) {
    const def = protoLoader.loadSync(HEALTH_PROTO, { enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: typeof HealthCtor } } } };
    HealthCtor = pkg.grpc.health.v1.Health;
  }
  const client = new HealthCtor!(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res!.status);
    });
  });
}

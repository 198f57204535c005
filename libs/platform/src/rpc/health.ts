import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@parley/proto';

export { Status as ServingStatus };

/** The process's serving status, shared by the gRPC health service and the ops endpoints. */
export class HealthState {
  private current = Status.NOT_SERVING;
  private closing = false;
  private readonly listeners = new Set<() => void>();

  /** `services` are the proto services this process serves; "" means the whole server. */
  constructor(readonly services: string[]) {}

  get status(): Status {
    return this.current;
  }

  get shuttingDown(): boolean {
    return this.closing;
  }

  /** NOT_SERVING for good: Watch streams end so they don't hold the server open. */
  shutdown(): void {
    this.closing = true;
    this.set(Status.NOT_SERVING);
  }

  set(status: Status): void {
    if (this.closing && status !== Status.NOT_SERVING) return;
    if (status === this.current) return;
    this.current = status;
    for (const notify of this.listeners) notify();
  }

  knows(service: string): boolean {
    return service === '' || this.services.includes(service);
  }

  /** Resolves at the next change of status or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener('abort', done);
    });
  }
}

/** grpc.health.v1.Health, as kubelet gRPC probes and grpc_health_probe expect it. */
export function healthRoutes(state: HealthState) {
  return (router: ConnectRouter) =>
    router.service(Health, {
      check(req) {
        if (!state.knows(req.service)) throw new ConnectError(`unknown service '${req.service}'`, Code.NotFound);
        return { status: state.status };
      },
      async *watch(req, ctx) {
        if (!state.knows(req.service)) {
          yield { status: Status.SERVICE_UNKNOWN };
          return;
        }
        while (!ctx.signal.aborted) {
          const status = state.status;
          yield { status };
          if (state.shuttingDown) return;
          await state.changed(ctx.signal);
        }
      },
    });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import type { Server } from '@tus/server';

/**
 * The request's body as the web stream tus reads (it turns it back into a Node stream). Node's
 * `Readable.toWeb`, which tus's own `handle` uses, copies every chunk into a new buffer; on a 1 GiB
 * upload those copies made garbage collection nearly half of media's CPU. This passes the chunks
 * on as they are, with the same backpressure: the socket pauses while a chunk's worth waits.
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  req.pause();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (done) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        finished(req, { writable: false }, (err) => {
          if (done) return;
          done = true;
          if (err) controller.error(err);
          else controller.close();
        });
      },
      pull() {
        req.resume();
      },
      cancel(reason) {
        done = true;
        req.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: req.readableHighWaterMark }),
  );
}

/**
 * What `tus.handle(req, res)` does, with the body passed on uncopied (above). The request carries
 * `runtime.node` as tus's own adapter's does: tus ends a write gracefully on a dropped connection
 * through it, and media's hooks reach the response through it.
 */
export async function handleTus(tus: Server, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  const hasBody = req.method === 'POST' || req.method === 'PATCH';
  const request = new Request(`http://${req.headers.host ?? 'media'}${req.url ?? '/'}`, {
    method: req.method,
    headers,
    ...(hasBody ? { body: bodyOf(req), duplex: 'half' } : {}),
  } as RequestInit);
  Object.assign(request, { runtime: { name: 'node', node: { req, res } } });
  const response = await tus.handleWeb(request);
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, [...response.headers].flat());
  res.end(body);
}

// A bare Node HTTP/1.1 server that answers every request with one fixed Connect unary response:
// the bytes given in base64 as argv[2], as application/proto. A baseline for an RPC through the
// edge that the same Connect client can call: what no server can beat. Run by fork(); it sends
// its port to the parent.
import http from 'node:http';

const body = Buffer.from(process.argv[2], 'base64');
const headers = { 'content-type': 'application/proto', 'content-length': String(body.length) };
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, headers).end(body));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
process.on('disconnect', () => process.exit(0));

/**
 * The ceiling of the token benchmark: a bare node:http server that reads the request body and
 * answers a fixed token response of Ferry's size and shape. Nothing an HTTP server on this machine
 * does per request can be cheaper. Run as a child of run.ts (IPC: { port } in, { ready } out).
 */
import http from 'node:http';

const { port } = await new Promise<{ port: number }>((resolve) => process.once('message', resolve as never));

const jwt = (size: number) => `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImJlbmNoIn0.${'x'.repeat(size)}.${'s'.repeat(43)}`;
const body = JSON.stringify({
  access_token: jwt(330),
  expires_in: 3600,
  redirect_uri: 'https://app.example.com/callback',
  refresh_token: jwt(390),
  token_type: 'bearer',
});

const server = http.createServer((request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      pragma: 'no-cache',
    });
    response.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.send!({ ready: true, port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));

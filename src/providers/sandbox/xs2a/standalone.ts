import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { xs2aSandboxRoutes, type Xs2aSandboxRoutesOptions } from './xs2a-sandbox-routes.js';

/**
 * The simulated NextGenPSD2 bank on its own port, the way a real bank stands apart from Ferry:
 * over TLS with the bank's server certificate, asking every client for its certificate (the API
 * answers 401 `CERTIFICATE_MISSING` / `CERTIFICATE_INVALID` without a good one; the login pages,
 * which browsers open, do not need one).
 */
export interface StandaloneXs2aBank {
  /** The API root to configure as a bank's `baseUrl` (`https://127.0.0.1:PORT`). */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface StandaloneXs2aBankOptions extends Omit<Xs2aSandboxRoutesOptions, 'pagesUrl'> {
  /** PEM: the server's certificate and key, and the authority client certificates must come from. */
  tls?: { cert: string; key: string; clientCa?: string };
  port?: number;
}

export async function startXs2aSandboxBank(options: StandaloneXs2aBankOptions): Promise<StandaloneXs2aBank> {
  const { tls, port, ...routes } = options;
  const app: FastifyInstance =
    tls === undefined
      ? Fastify()
      : (Fastify({ https: { cert: tls.cert, key: tls.key, ...(tls.clientCa !== undefined ? { ca: tls.clientCa } : {}), requestCert: true, rejectUnauthorized: false } }) as unknown as FastifyInstance);
  let url = '';
  await app.register(xs2aSandboxRoutes, { ...routes, pagesUrl: () => url });
  await app.listen({ host: '127.0.0.1', port: port ?? 0 });
  url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { url, app, close: () => app.close() };
}

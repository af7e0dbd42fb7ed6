import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { registerFormBodyParser, type FormBody } from '../flow/form-body.js';
import { appsRoutes } from './apps-routes.js';
import { consentRoutes } from './consent-routes.js';
import { ExpiredFormPage } from './pages/sign-in-pages.js';
import { createPortalKit, csrfMatches, type PortalOptions } from './portal-kit.js';
import { quickStartRoutes } from './quickstart-routes.js';
import { redirectRoutes } from './redirect-routes.js';
import { signInRoutes } from './sign-in-routes.js';
import { webhookRoutes } from './webhook-routes.js';

const STYLESHEET = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets', 'portal.css'));

/**
 * The developer portal at /portal (issue 9): app developers sign in with an email code, register
 * apps and manage their credentials, redirect URLs, webhooks and consents, and follow a quick
 * start to a first sandbox connection. Server-rendered pages that work without JavaScript (post →
 * 303 → get), a CSRF token on every form, out of the OpenAPI document.
 */
export async function portalRoutes(app: FastifyInstance, options: PortalOptions): Promise<void> {
  registerFormBodyParser(app);
  const kit = createPortalKit(app, options);

  // Every post carries this browser's CSRF token; before sign-in checks, so a forged post learns nothing.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    if (csrfMatches(request, kit.secure, (request.body as FormBody | undefined)?._csrf)) return;
    request.log.info('portal post refused: CSRF token missing or wrong');
    return kit.send(reply, <ExpiredFormPage view={kit.view(request, reply)} />, 403);
  });

  app.get('/portal/assets/portal.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET),
  );

  signInRoutes(kit);
  appsRoutes(kit);
  quickStartRoutes(kit);
  redirectRoutes(kit);
  webhookRoutes(kit);
  consentRoutes(kit);
}

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Ferry's own static assets (CSS, scripts, images), read into memory once: no CDN, no external fonts. */
export async function assetRoutes(app: FastifyInstance, options: { directory: string }): Promise<void> {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  const walk = (dir: string, rel: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(full, name);
      else if (CONTENT_TYPES[path.extname(entry.name)] !== undefined) {
        const body = fs.readFileSync(full);
        files.set(name, { body, type: CONTENT_TYPES[path.extname(entry.name)]!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
      }
    }
  };
  walk(options.directory, '');

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const file = files.get(name);
    if (file === undefined) return reply.callNotFound();
    reply.header('cache-control', 'public, max-age=3600').header('etag', file.etag).type(file.type);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  });
}

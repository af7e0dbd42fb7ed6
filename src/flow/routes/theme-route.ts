import { brandStylesheet } from '../brand.js';
import type { FlowRouteKit } from './route-kit.js';

/** The app's brand colour as a stylesheet (CSP allows no inline style): `/flow/theme/<hex>.css`, cached for good. */
export function themeRoute(kit: FlowRouteKit): void {
  kit.app.get<{ Params: { file: string } }>('/flow/theme/:file', { schema: kit.hide }, async (request, reply) => {
    const match = /^([0-9a-f]{6})\.css$/.exec(request.params.file);
    const css = match !== null ? brandStylesheet(match[1]!) : null;
    if (css === null) return reply.callNotFound();
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/css; charset=utf-8').send(css);
  });
}

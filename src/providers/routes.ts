import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { NotFound } from '../errors.js';
import type { ProviderRegistry } from './registry.js';
import type { BankProvider } from './types.js';

/**
 * The provider endpoints of aiia-api.md §4. Aiia documents only `id`, `name` and `countryCode`;
 * its official sample app reads `GET /v1/providers` as a bare JSON array of such objects, so v1
 * answers an array. Ferry decides the rest: v2 wraps the list as `{ providers: [...] }` and both add
 * `currency`, `logoUrl` (absolute, served by Ferry itself), `status`, `loginMethods` and
 * `requiresSupervisedUpdate`, in Aiia's camelCase / PascalCase-enum style.
 */

const ProviderSchema = Type.Object(
  {
    id: Type.String({ description: 'Provider id, as `providerId` at connect.' }),
    name: Type.String(),
    countryCode: Type.String({ description: 'ISO 3166-1 alpha-2' }),
    currency: Type.String({ description: 'ISO 4217 currency of its accounts' }),
    logoUrl: Type.String({ description: 'SVG logo served by Ferry' }),
    status: Type.Union([Type.Literal('Up'), Type.Literal('Degraded'), Type.Literal('Down')]),
    loginMethods: Type.Array(Type.Union([Type.Literal('Password'), Type.Literal('PasswordAndOtp'), Type.Literal('Decoupled'), Type.Literal('Redirect')])),
    requiresSupervisedUpdate: Type.Boolean({ description: 'The user must be present for every update (`POST /v1/update` answers SupervisedLoginRequired).' }),
  },
  { description: 'A bank (provider) users can connect to.' },
);
type ProviderBody = Static<typeof ProviderSchema>;

const ListQuerySchema = Type.Object({
  countryCode: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'Only providers of this country' })),
});

const NotFoundSchema = Type.Object({ error: Type.String(), error_description: Type.String() });

/** Logos are served under this path, by file name (`/assets/banks/testdatabank1.svg`). */
const LOGO_PREFIX = '/assets/banks/';

export interface ProviderRoutesOptions {
  registry: ProviderRegistry;
}

export async function providerRoutes(fastify: FastifyInstance, options: ProviderRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { registry } = options;

  const toBody = (provider: BankProvider): ProviderBody => {
    const d = provider.describe();
    return {
      id: d.id,
      name: d.name,
      countryCode: d.countryCode,
      currency: d.currency,
      logoUrl: /^https?:\/\//.test(d.logoUrl) ? d.logoUrl : `${registry.publicUrl}${d.logoUrl}`,
      status: d.status,
      loginMethods: [...d.loginMethods],
      requiresSupervisedUpdate: d.requiresSupervisedUpdate,
    };
  };
  const listed = (countryCode: string | undefined) => {
    const country = countryCode?.toUpperCase();
    return registry
      .list()
      .map(toBody)
      .filter((p) => country === undefined || p.countryCode === country);
  };

  app.get(
    '/v1/providers',
    { schema: { tags: ['Providers'], summary: 'The banks users can connect to', querystring: ListQuerySchema, response: { 200: Type.Array(ProviderSchema) } } },
    async (request) => listed(request.query.countryCode),
  );

  app.get(
    '/v2/providers',
    {
      schema: {
        tags: ['Providers'],
        summary: 'The banks users can connect to',
        querystring: ListQuerySchema,
        response: { 200: Type.Object({ providers: Type.Array(ProviderSchema) }) },
      },
    },
    async (request) => ({ providers: listed(request.query.countryCode) }),
  );

  app.get(
    '/v2/providers/:providerId',
    {
      schema: {
        tags: ['Providers'],
        summary: 'One bank',
        params: Type.Object({ providerId: Type.String({ maxLength: 200 }) }),
        response: { 200: ProviderSchema, 404: NotFoundSchema },
      },
    },
    async (request) => {
      const provider = registry.get(request.params.providerId);
      if (provider === undefined) throw new NotFound(`No provider ${request.params.providerId}.`);
      return toBody(provider);
    },
  );

  // Logos: read once per provider here, served with a strong ETag and a long cache.
  const logos = new Map<string, { svg: string; etag: string }>();
  for (const provider of registry.list()) {
    const { logoUrl } = provider.describe();
    const svg = provider.logoSvg?.();
    if (svg === undefined || !logoUrl.startsWith(LOGO_PREFIX)) continue;
    logos.set(logoUrl.slice(LOGO_PREFIX.length), { svg, etag: `"${createHash('sha256').update(svg).digest('base64url').slice(0, 16)}"` });
  }

  app.get(`${LOGO_PREFIX}:file`, { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 200 }) }) } }, async (request, reply) => {
    const logo = logos.get(request.params.file);
    if (logo === undefined) throw new NotFound('No such logo.');
    reply
      .header('cache-control', 'public, max-age=86400')
      .header('etag', logo.etag)
      // An SVG opened on its own is a document: it may not run or load anything.
      .header('content-security-policy', "default-src 'none'")
      .type('image/svg+xml');
    if (request.headers['if-none-match'] === logo.etag) return reply.code(304).send();
    return reply.send(logo.svg);
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { InvalidRequest, UnsupportedGrantType } from '../errors.js';
import { findAppRowCached } from '../apps/apps.js';
import { authenticateClient, readClientCredentials } from './client-auth.js';
import { registerOAuthBodyParsers, TOKEN_BODY_LIMIT } from './request-body.js';
import type { TokenService } from './token-service.js';

export interface TokenRoutesOptions {
  db: Kysely<Database>;
  clock: Clock;
  tokens: TokenService;
}

const MAX_PARAMETER_LENGTH = 4096;

const tokenResponseSchema = {
  type: 'object',
  required: ['access_token', 'expires_in', 'redirect_uri', 'refresh_token', 'token_type'],
  properties: {
    access_token: { type: 'string', description: 'JWT (HS256) with the claims userId, clientId, role, sessionId, consentId, scopes.' },
    expires_in: { type: 'integer', description: 'Seconds until the access token expires (3600, less near a one-time deadline).' },
    redirect_uri: { type: ['string', 'null'], description: 'The redirect URI of the exchanged code; null on refresh.' },
    refresh_token: { type: 'string', description: 'JWT; rotates on every refresh.' },
    token_type: { type: 'string', enum: ['bearer'] },
  },
} as const;

const oauthErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
} as const;

/** POST /v1/oauth/token (aiia-api.md §3) and POST /v1/oauth/revoke (RFC 7009). */
export async function tokenRoutes(app: FastifyInstance, options: TokenRoutesOptions): Promise<void> {
  const { db, clock, tokens } = options;
  registerOAuthBodyParsers(app);

  app.post(
    '/v1/oauth/token',
    {
      bodyLimit: TOKEN_BODY_LIMIT,
      config: { rateLimitScope: 'token' },
      schema: {
        tags: ['OAuth'],
        summary: 'Exchange an authorization code or a refresh token for tokens',
        description:
          'Client authentication by HTTP Basic (client_id:client_secret) or client_id/client_secret in the body. ' +
          'Body as application/json or application/x-www-form-urlencoded. Grants: authorization_code (code, redirect_uri, code_verifier when PKCE was used) and refresh_token.',
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          properties: {
            grant_type: { type: 'string', enum: ['authorization_code', 'refresh_token'] },
            code: { type: 'string' },
            redirect_uri: { type: 'string' },
            code_verifier: { type: 'string' },
            refresh_token: { type: 'string' },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
          },
        },
        response: { 200: tokenResponseSchema, 400: oauthErrorSchema, 401: oauthErrorSchema },
      },
      // The body was parsed strictly above; the schema is for the document, not for validation.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const body = requireBody(request);
      // The app row is cached for a second (apps.ts): the secret is still checked every time.
      const client = await authenticateClient(db, clock, readClientCredentials(request.headers.authorization, body), findAppRowCached);
      noStore(reply);
      switch (body.grant_type) {
        case 'authorization_code':
          return tokens.exchangeAuthorizationCode(client, {
            code: required(body, 'code'),
            redirectUri: optional(body, 'redirect_uri'),
            codeVerifier: optional(body, 'code_verifier'),
          });
        case 'refresh_token':
          return tokens.refresh(client, required(body, 'refresh_token'));
        case undefined:
          throw new InvalidRequest('grant_type is required.');
        default:
          throw new UnsupportedGrantType(`grant_type ${JSON.stringify(body.grant_type)} is not supported: use authorization_code or refresh_token.`);
      }
    },
  );

  app.post(
    '/v1/oauth/revoke',
    {
      bodyLimit: TOKEN_BODY_LIMIT,
      config: { rateLimitScope: 'token' },
      schema: {
        tags: ['OAuth'],
        summary: 'Revoke a token (RFC 7009)',
        description: 'Revokes the grant behind an access or refresh token of the authenticated client. Answers 200 for unknown tokens too (RFC 7009 §2.2).',
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          properties: { token: { type: 'string' }, token_type_hint: { type: 'string' }, client_id: { type: 'string' }, client_secret: { type: 'string' } },
        },
        response: { 200: { type: 'object', properties: {} }, 400: oauthErrorSchema, 401: oauthErrorSchema },
      },
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const body = requireBody(request);
      const client = await authenticateClient(db, clock, readClientCredentials(request.headers.authorization, body));
      await tokens.revoke(client, required(body, 'token'));
      noStore(reply);
      return {};
    },
  );
}

function requireBody(request: FastifyRequest): Record<string, string> {
  const body = request.body as Record<string, string> | undefined | null;
  if (body === undefined || body === null) {
    throw new InvalidRequest('The request has no body: send the parameters as application/json or application/x-www-form-urlencoded.');
  }
  return body;
}

function required(body: Record<string, string>, name: string): string {
  const value = body[name];
  if (value === undefined || value === '') throw new InvalidRequest(`${name} is required.`);
  if (value.length > MAX_PARAMETER_LENGTH) throw new InvalidRequest(`${name} is too long.`);
  return value;
}

function optional(body: Record<string, string>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_PARAMETER_LENGTH) throw new InvalidRequest(`${name} is too long.`);
  return value;
}

/** RFC 6749 §5.1: token responses must not be cached. */
function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

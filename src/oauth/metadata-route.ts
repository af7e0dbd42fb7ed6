import type { FastifyInstance } from 'fastify';

/** RFC 8414 authorization server metadata, so standard OAuth libraries configure themselves. */
export async function metadataRoute(app: FastifyInstance, options: { issuer: string }): Promise<void> {
  const { issuer } = options;
  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/v1/oauth/connect`,
    token_endpoint: `${issuer}/v1/oauth/token`,
    revocation_endpoint: `${issuer}/v1/oauth/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    scopes_supported: ['accounts', 'offline_access'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    ui_locales_supported: ['en', 'da', 'sv', 'nb', 'fi', 'de'],
    service_documentation: `${issuer}/docs`,
  };
  app.get('/.well-known/oauth-authorization-server', { schema: { tags: ['OAuth'], summary: 'Authorization server metadata (RFC 8414)' } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return metadata;
  });
}

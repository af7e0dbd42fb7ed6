/** The one confidential client of the oidc-provider baseline (shared by oidc-server.ts and run.ts). */
export const OIDC_CLIENT = {
  clientId: 'bench-client',
  clientSecret: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  redirectUri: 'https://app.example.com/callback',
};

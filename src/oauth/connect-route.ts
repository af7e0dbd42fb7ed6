import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { findAppRow, loadRedirectUris } from '../apps/apps.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import {
  InvalidRedirectUri,
  InvalidRequest,
  InvalidScope,
  OAuthError,
  UnknownClient,
  UnsupportedResponseType,
} from '../errors.js';
import { createFlowSession, type ConnectParams } from '../flow/session.js';
import { buildAuthorizationRedirect } from './authorization-response.js';
import { isValidCodeChallenge } from './pkce.js';
import { matchRedirectUri } from './redirect-uri.js';
import { formatScopes, KNOWN_SCOPES, type Scope } from './scopes.js';

export interface ConnectRouteOptions {
  db: Kysely<Database>;
  clock: Clock;
  issuer: string;
  /** Where the hosted flow starts; the flow handle is appended as `?f=`. */
  flowStartPath: string;
  providerExists(id: string): boolean;
}

type Query = Record<string, string | string[] | undefined>;

/** An error found after the redirect URI was validated: goes back to the app (RFC 6749 §4.1.2.1). */
class RedirectableError extends Error {
  constructor(
    readonly oauthError: OAuthError,
    readonly redirectUri: string,
    readonly state: string | null,
  ) {
    super(oauthError.description);
  }
}

const MAX_STATE_LENGTH = 2048;
const MAX_PARAM_LENGTH = 512;
const LEGACY_FLOWS: Record<string, Scope[]> = {
  OneTimeUser: ['accounts'],
  PersistentUser: ['accounts', 'offline_access'],
};
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * GET /v1/oauth/connect (aiia-api.md §1, seed page): validates the request in the order RFC 6749
 * §4.1.2.1 requires (client and redirect URI first; until both are trusted, errors are a page,
 * never a redirect), then creates the flow session and answers 301 to the hosted flow.
 */
export async function connectRoute(app: FastifyInstance, options: ConnectRouteOptions): Promise<void> {
  const { db, clock, issuer } = options;

  app.get(
    '/v1/oauth/connect',
    {
      config: { rateLimitScope: 'connect' },
      schema: {
        tags: ['OAuth'],
        summary: 'Start the connect flow (the authorization endpoint)',
        description:
          'Browser-navigable. Answers 301 with Location pointing at the hosted flow. After the flow, the user returns to redirect_uri with ' +
          'code, consentId, state and iss, or with error, error_description, state and iss.',
        querystring: {
          type: 'object',
          required: ['client_id', 'redirect_uri', 'response_type'],
          properties: {
            client_id: { type: 'string' },
            redirect_uri: { type: 'string', description: 'Must match a registered redirect URI (a * may stand in its path).' },
            response_type: { type: 'string', enum: ['code'] },
            scope: { type: 'string', description: '"accounts" (one-time flow) or "accounts offline_access" (regular flow).' },
            flow: { type: 'string', enum: ['OneTimeUser', 'PersistentUser'], deprecated: true },
            state: { type: 'string' },
            providerId: { type: 'string' },
            culture: { type: 'string', description: 'en, da, sv (or se), nb (or no), fi, de' },
            email: { type: 'string' },
            consentId: { type: 'string' },
            select_all_accounts: { type: 'string', enum: ['true', 'false'] },
            accountsGroupId: { type: 'string' },
            accountsGroupName: { type: 'string' },
            bank_account_numbers: { type: 'string' },
            code_challenge: { type: 'string' },
            code_challenge_method: { type: 'string', enum: ['S256'] },
          },
        },
        response: { 301: { description: 'Redirect to the hosted flow', type: 'null' } },
      },
      // The steps below validate, in the order the RFC wants; the schema feeds the document.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const query = (request.query ?? {}) as Query;
      const { appId, redirectUri } = await checkClientAndRedirectUri(db, query);
      const state = single(query, 'state', true);
      try {
        checkResponseType(query);
        const scopes = assignScopes(query);
        const codeChallenge = checkPkce(query);
        const params = readConnectParams(query, options.providerExists);
        if (state !== null && state.length > MAX_STATE_LENGTH) throw new InvalidRequest(`state may be at most ${MAX_STATE_LENGTH} characters.`);
        const { handle } = await createFlowSession(db, clock, { appId, redirectUri, state, scopes: formatScopes(scopes), codeChallenge, params });
        return reply
          .code(301)
          .header('cache-control', 'no-store')
          .header('location', `${issuer}${options.flowStartPath}?f=${handle}`)
          .send();
      } catch (error) {
        if (error instanceof OAuthError) throw new RedirectableError(error, redirectUri, state !== null && state.length <= MAX_STATE_LENGTH ? state : null);
        throw error;
      }
    },
  );

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof RedirectableError) {
      return reply
        .code(302)
        .header('cache-control', 'no-store')
        .header(
          'location',
          buildAuthorizationRedirect(error.redirectUri, {
            error: error.oauthError.error,
            error_description: error.oauthError.description,
            state: error.state,
            iss: issuer,
          }),
        )
        .send();
    }
    throw error;
  });
}

async function checkClientAndRedirectUri(db: Kysely<Database>, query: Query): Promise<{ appId: string; redirectUri: string }> {
  const clientId = singleUnsafe(query, 'client_id');
  if (clientId === null) throw new UnknownClient('client_id is missing.');
  if (clientId === undefined) throw new UnknownClient('client_id appears more than once.');
  const app = clientId.length <= 200 ? await findAppRow(db, clientId) : undefined;
  if (app === undefined) throw new UnknownClient('This app is not known to Ferry (unknown client_id).');
  const redirectUri = singleUnsafe(query, 'redirect_uri');
  if (redirectUri === null) throw new InvalidRedirectUri('redirect_uri is missing.');
  if (redirectUri === undefined) throw new InvalidRedirectUri('redirect_uri appears more than once.');
  if (matchRedirectUri(await loadRedirectUris(db, app.id), redirectUri) === null) {
    throw new InvalidRedirectUri('redirect_uri is not registered for this app.');
  }
  return { appId: app.id, redirectUri };
}

function checkResponseType(query: Query): void {
  const responseType = single(query, 'response_type');
  if (responseType === null) throw new InvalidRequest('response_type is required (use response_type=code).');
  if (responseType !== 'code') throw new UnsupportedResponseType(`response_type ${JSON.stringify(responseType)} is not supported: use code.`);
}

/** `scope` wins; the deprecated `flow` still works (seed page). Neither: Aiia's default, the regular flow. */
function assignScopes(query: Query): Scope[] {
  const scope = single(query, 'scope');
  const flow = single(query, 'flow');
  let fromFlow: Scope[] | undefined;
  if (flow !== null) {
    fromFlow = LEGACY_FLOWS[flow];
    if (fromFlow === undefined) throw new InvalidRequest(`flow ${JSON.stringify(flow)} is unknown: use scope=accounts (one-time) or scope="accounts offline_access".`);
  }
  if (scope === null) return fromFlow ?? ['accounts', 'offline_access'];
  const requested = scope.split(' ').filter((s) => s !== '');
  const unknown = requested.filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new InvalidScope(`Unknown scope ${unknown.map((s) => JSON.stringify(s)).join(', ')}: Ferry knows accounts and offline_access.`);
  const scopes = [...new Set(requested)] as Scope[];
  if (!scopes.includes('accounts')) throw new InvalidScope('scope must include accounts.');
  if (fromFlow !== undefined && formatScopes(fromFlow) !== formatScopes(scopes)) {
    throw new InvalidRequest(`flow=${flow} contradicts scope=${JSON.stringify(scope)}; send scope alone (flow is deprecated).`);
  }
  return scopes;
}

/** PKCE (RFC 7636), S256 only: `plain` would let a stolen code be redeemed. */
function checkPkce(query: Query): string | null {
  const challenge = single(query, 'code_challenge');
  const method = single(query, 'code_challenge_method');
  if (challenge === null) {
    if (method !== null) throw new InvalidRequest('code_challenge_method was sent without code_challenge.');
    return null;
  }
  if (method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256 (RFC 7636 §4.3; plain is not supported).');
  if (!isValidCodeChallenge(challenge)) throw new InvalidRequest('code_challenge must be the 43-character base64url SHA-256 of the code_verifier.');
  return challenge;
}

function readConnectParams(query: Query, providerExists: (id: string) => boolean): ConnectParams {
  const providerId = single(query, 'providerId');
  if (providerId !== null && !providerExists(providerId)) throw new InvalidRequest(`providerId ${JSON.stringify(providerId)} is not a bank Ferry knows.`);
  const selectAll = single(query, 'select_all_accounts');
  if (selectAll !== null && selectAll !== 'true' && selectAll !== 'false') throw new InvalidRequest('select_all_accounts must be true or false.');
  const email = single(query, 'email');
  if (email !== null && !EMAIL.test(email)) throw new InvalidRequest('email is not an email address.');
  const numbers = single(query, 'bank_account_numbers');
  if (numbers !== null && providerId === null) throw new InvalidRequest('bank_account_numbers needs providerId.');
  const bankAccountNumbers = numbers === null ? [] : numbers.split(',').map((n) => n.replace(/\s+/g, '').toUpperCase()).filter((n) => n !== '');
  if (bankAccountNumbers.some((n) => !/^[A-Z0-9-]{4,34}$/.test(n))) throw new InvalidRequest('bank_account_numbers must be comma-separated BBANs or IBANs.');
  return {
    culture: single(query, 'culture'),
    providerId,
    email,
    consentId: single(query, 'consentId'),
    selectAllAccounts: selectAll === 'true',
    accountsGroupId: single(query, 'accountsGroupId'),
    accountsGroupName: single(query, 'accountsGroupName'),
    bankAccountNumbers,
  };
}

/** A parameter that appears at most once (RFC 6749 §3.1), bounded in length; null when absent or empty. */
function single(query: Query, name: string, unbounded = false): string | null {
  const value = query[name];
  if (Array.isArray(value)) throw new InvalidRequest(`${name} appears more than once (RFC 6749 §3.1).`);
  if (value === undefined || value === '') return null;
  if (!unbounded && value.length > MAX_PARAM_LENGTH) throw new InvalidRequest(`${name} is too long.`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidRequest(`${name} contains control characters.`);
  return value;
}

/** Like `single` for the parameters checked before a redirect is allowed: undefined for duplicates. */
function singleUnsafe(query: Query, name: string): string | null | undefined {
  const value = query[name];
  if (Array.isArray(value)) return undefined;
  if (value === undefined || value === '') return null;
  return value;
}

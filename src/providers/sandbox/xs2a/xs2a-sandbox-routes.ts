import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../../../clock.js';
import type { Database } from '../../../db/schema.js';
import { normaliseCulture, resolveCulture } from '../../../i18n/culture.js';
import { verifySignature } from '../../nextgenpsd2/http-signature.js';
import { OpenApiContract } from '../../nextgenpsd2/openapi-contract.js';
import type { Culture } from '../../types.js';
import { renderAppDecidedPage, renderAppPage, renderGonePage, renderLoginPage } from '../bank-pages.js';
import { PAGE_CSP } from '../routes.js';
import { scenarioFor } from '../scenarios.js';
import { XS2A_SANDBOX_BANK } from './sandbox-xs2a-banks.js';
import { Xs2aSandboxBank, tppError, type BankAnswer } from './xs2a-sandbox-bank.js';

/**
 * The simulated NextGenPSD2 bank over HTTP: the Berlin Group's AIS endpoints (consents, their
 * authorisations and status, accounts, balances, transactions) and the bank's own pages (the
 * redirect login, the decoupled "phone"). Inside Ferry it is served under `/sandbox/xs2a`; tests
 * also start it on its own port over TLS, where it asks for the TPP's certificate (mutual TLS) and,
 * if told to, for sealed requests, as real banks do.
 *
 * Like a strict bank, it checks every request against the Berlin Group's OpenAPI file and refuses
 * one that breaks it (400 `FORMAT_ERROR`); it checks its own answers too, and reports both checks
 * to `onExchange`, so a test proves each side of the wire.
 */

export interface Xs2aSandboxRoutesOptions {
  db: Kysely<Database>;
  clock?: Clock;
  /** Where browsers reach this bank, prefix included (`https://ferry.example/sandbox/xs2a`). */
  pagesUrl: string | (() => string);
  contract?: OpenApiContract;
  /** Refuse API calls without a client certificate the TLS server verified (mutual TLS). */
  requireClientCertificate?: boolean;
  /** Refuse API calls that are not sealed (`Signature`, `Digest`, `TPP-Signature-Certificate`); sealed ones are always checked. */
  requireSignature?: boolean;
  /** Authorities whose certificates may seal requests; any valid certificate when unset. */
  trustedIssuers?: X509Certificate[];
  /** Transaction entries per page (200). */
  pageSize?: number;
  embeddedMethods?: 1 | 2;
  explicitStart?: boolean;
  /** How long each call for the `slow` user takes (0). */
  slowMs?: number;
  onExchange?: (exchange: Xs2aSandboxExchange) => void;
  /** Tests: answer a call with a fault instead (a 429, a 5xx, a late or malformed answer). */
  fault?: (call: { operationId: string | null; method: string; path: string; headers: Record<string, string | undefined> }) => Xs2aFault | null | undefined;
}

export interface Xs2aSandboxExchange {
  operationId: string | null;
  method: string;
  path: string;
  status: number;
  requestProblems: string[];
  responseProblems: string[];
  /** The call carried `PSU-IP-Address`: the user was present. */
  userPresent: boolean;
  signed: boolean;
  clientCertificate: boolean;
}

export interface Xs2aFault {
  status: number;
  body?: unknown;
  /** Sent as it is, instead of `body` (a proxy's HTML page, broken JSON). */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

interface CallInfo {
  operationId: string | null;
  path: string;
  requestProblems: string[];
  userPresent: boolean;
  signed: boolean;
  clientCertificate: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function xs2aSandboxRoutes(fastify: FastifyInstance, options: Xs2aSandboxRoutesOptions): Promise<void> {
  const clock = options.clock ?? systemClock;
  // The Berlin Group file is read on the first call to this bank, not at start: a deployment that
  // never uses the simulated NextGenPSD2 bank does not hold it (issue 8, memory per process).
  let contract = options.contract;
  const theContract = () => (contract ??= OpenApiContract.berlinGroup());
  const prefix = fastify.prefix;
  const pagesUrl = () => (typeof options.pagesUrl === 'function' ? options.pagesUrl() : options.pagesUrl).replace(/\/+$/, '');
  // A bank's interface, not Ferry's: kept out of Ferry's OpenAPI document.
  fastify.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });
  let bank: Xs2aSandboxBank | null = null;
  const theBank = () =>
    (bank ??= new Xs2aSandboxBank(options.db, {
      apiPrefix: prefix,
      pagesUrl: pagesUrl(),
      pageSize: options.pageSize ?? 200,
      embeddedMethods: options.embeddedMethods ?? 2,
      explicitStart: options.explicitStart ?? false,
    }));

  await fastify.register(async (api) => {
    const calls = new WeakMap<FastifyRequest, CallInfo>();
    const rawBodies = new WeakMap<FastifyRequest, string>();
    const header = (request: FastifyRequest, name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    const headersOf = (request: FastifyRequest) => Object.fromEntries(Object.keys(request.headers).map((name) => [name, header(request, name)]));

    // The raw body is needed for the `Digest` of a sealed request.
    api.removeContentTypeParser('application/json');
    api.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (request, body, done) => {
      rawBodies.set(request, body as string);
      if (body === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('the body is not JSON'), { statusCode: 400 }), undefined);
      }
    });

    const send = (reply: FastifyReply, answer: BankAnswer) => {
      reply.code(answer.status).header('cache-control', 'no-store');
      for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
      return answer.body === undefined ? reply.send() : reply.type('application/json').send(JSON.stringify(answer.body));
    };

    api.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      const status = error.statusCode ?? 500;
      if (status === 415) return send(reply, tppError(415, 'UNSUPPORTED_MEDIA_TYPE'));
      if (status >= 400 && status < 500) return send(reply, tppError(400, 'FORMAT_ERROR', error.message));
      return send(reply, { status: 500 });
    });

    // Mutual TLS: the TPP is who its QWAC says, or nobody.
    api.addHook('onRequest', async (request, reply) => {
      const socket = request.raw.socket as Partial<TLSSocket>;
      const clientCertificate = socket.authorized === true;
      const path = request.url.split('?')[0]!.slice(prefix.length);
      calls.set(request, { operationId: theContract().operationId(request.method, path), path, requestProblems: [], userPresent: header(request, 'psu-ip-address') !== undefined, signed: false, clientCertificate });
      if (options.requireClientCertificate === true && !clientCertificate) {
        const presented = typeof socket.getPeerCertificate === 'function' && Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
        return send(reply, tppError(401, presented ? 'CERTIFICATE_INVALID' : 'CERTIFICATE_MISSING'));
      }
    });

    api.addHook('preHandler', async (request, reply) => {
      const call = calls.get(request)!;
      const headers = headersOf(request);
      const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
      const checked = theContract().checkRequest({ method: request.method, path: call.path, query, headers, body: request.body });
      call.requestProblems = checked.problems;
      if (checked.problems.length > 0) return send(reply, tppError(400, 'FORMAT_ERROR', checked.problems[0]));
      if (options.requireSignature === true || headers.signature !== undefined) {
        const verdict = verifySignature(headers, rawBodies.get(request) ?? '', { now: Date.now(), ...(options.trustedIssuers !== undefined ? { issuers: options.trustedIssuers } : {}) });
        if (!verdict.ok) return send(reply, tppError(401, verdict.code, verdict.reason));
        call.signed = true;
      }
      const fault = options.fault?.({ operationId: call.operationId, method: request.method, path: call.path, headers });
      if (fault !== null && fault !== undefined) {
        if (fault.delayMs !== undefined) await sleep(fault.delayMs);
        reply.code(fault.status);
        for (const [name, value] of Object.entries(fault.headers ?? {})) reply.header(name, value);
        if (fault.rawBody !== undefined) return reply.type(fault.contentType ?? 'text/html').send(fault.rawBody);
        return fault.body === undefined ? reply.send() : reply.type(fault.contentType ?? 'application/json').send(JSON.stringify(fault.body));
      }
      if ((options.slowMs ?? 0) > 0 && (await isSlow(request, headers))) await sleep(options.slowMs!);
    });

    /** The `slow` scenario user, by PSU-ID or by the consent the call is about. */
    const isSlow = async (request: FastifyRequest, headers: Record<string, string | undefined>) => {
      const consentId = headers['consent-id'] ?? (request.params as { consentId?: string }).consentId;
      let psuId = headers['psu-id'];
      if (psuId === undefined && consentId !== undefined) {
        psuId = (await options.db.selectFrom('xs2a_sandbox_consents').select('psu_id').where('id', '=', consentId).executeTakeFirst())?.psu_id ?? undefined;
      }
      return scenarioFor(psuId ?? '')?.login === 'slow';
    };

    // Every answer: the request's `X-Request-ID` back, and the answer checked against the specification.
    api.addHook('onSend', async (request, reply, payload) => {
      const requestId = header(request, 'x-request-id');
      reply.header('x-request-id', requestId !== undefined && UUID.test(requestId) ? requestId : crypto.randomUUID());
      const call = calls.get(request);
      if (call !== undefined && options.onExchange !== undefined) {
        const text = typeof payload === 'string' ? payload : payload === null || payload === undefined ? '' : String(payload);
        let body: unknown = text === '' ? undefined : text;
        if (text !== '' && /json/.test(String(reply.getHeader('content-type') ?? ''))) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(reply.getHeaders())) headers[name.toLowerCase()] = value === undefined ? undefined : String(value);
        const responseProblems = theContract().checkResponse(request.method, call.path, { status: reply.statusCode, headers, body }).problems;
        options.onExchange({ operationId: call.operationId, method: request.method, path: call.path, status: reply.statusCode, requestProblems: call.requestProblems, responseProblems, userPresent: call.userPresent, signed: call.signed, clientCertificate: call.clientCertificate });
      }
      return payload;
    });

    const culture = (request: FastifyRequest): Culture => resolveCulture(null, header(request, 'psu-accept-language'));
    const flag = (request: FastifyRequest, name: string) => {
      const value = header(request, name);
      return value === undefined ? undefined : value === 'true';
    };
    type ConsentParams = { Params: { consentId: string } };
    type AuthParams = { Params: { consentId: string; authorisationId: string } };
    type AccountParams = { Params: { accountId: string } };

    api.post('/v1/consents', async (request, reply) => {
      const body = request.body as Parameters<Xs2aSandboxBank['createConsent']>[0]['body'];
      const answer = await theBank().createConsent(
        {
          body,
          psuId: header(request, 'psu-id'),
          redirectPreferred: flag(request, 'tpp-redirect-preferred'),
          decoupledPreferred: flag(request, 'tpp-decoupled-preferred'),
          redirectUri: header(request, 'tpp-redirect-uri'),
          nokRedirectUri: header(request, 'tpp-nok-redirect-uri'),
          culture: culture(request),
        },
        clock.now(),
      );
      return send(reply, answer);
    });
    api.post<ConsentParams>('/v1/consents/:consentId/authorisations', async (request, reply) =>
      send(reply, await theBank().startAuthorisation(request.params.consentId, { psuId: header(request, 'psu-id'), body: (request.body ?? {}) as Record<string, unknown>, culture: culture(request) }, clock.now())),
    );
    api.get<AuthParams>('/v1/consents/:consentId/authorisations/:authorisationId', async (request, reply) => send(reply, await theBank().scaStatus(request.params.consentId, request.params.authorisationId, clock.now())));
    api.put<AuthParams>('/v1/consents/:consentId/authorisations/:authorisationId', async (request, reply) =>
      send(reply, await theBank().updatePsuData(request.params.consentId, request.params.authorisationId, (request.body ?? {}) as Record<string, unknown>, clock.now())),
    );
    api.get<ConsentParams>('/v1/consents/:consentId/status', async (request, reply) => send(reply, await theBank().consentStatus(request.params.consentId, clock.now())));
    api.get<ConsentParams>('/v1/consents/:consentId', async (request, reply) => send(reply, await theBank().consentInformation(request.params.consentId, clock.now())));
    api.delete<ConsentParams>('/v1/consents/:consentId', async (request, reply) => send(reply, await theBank().deleteConsent(request.params.consentId, clock.now())));

    const reader = (request: FastifyRequest) => ({ consentId: header(request, 'consent-id'), userPresent: header(request, 'psu-ip-address') !== undefined });
    api.get<{ Querystring: { withBalance?: string } }>('/v1/accounts', async (request, reply) =>
      send(reply, await theBank().accounts({ ...reader(request), withBalance: request.query.withBalance === 'true' }, clock.now())),
    );
    api.get<AccountParams>('/v1/accounts/:accountId/balances', async (request, reply) => send(reply, await theBank().balances(request.params.accountId, reader(request), clock.now())));
    api.get<AccountParams & { Querystring: Record<string, string | undefined> }>('/v1/accounts/:accountId/transactions', async (request, reply) => {
      const q = request.query;
      const pageIndex = q.pageIndex === undefined ? undefined : Number(q.pageIndex);
      return send(
        reply,
        await theBank().transactions(request.params.accountId, { ...reader(request), bookingStatus: q.bookingStatus ?? '', dateFrom: q.dateFrom, dateTo: q.dateTo, pageIndex }, clock.now()),
      );
    });
  });

  // --- the bank's own pages ----------------------------------------------------------------------

  await fastify.register(async (pages) => {
    if (!pages.hasContentTypeParser('application/x-www-form-urlencoded')) {
      pages.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      });
    }
    const html = (reply: FastifyReply, status: number, body: string) =>
      reply.code(status).header('cache-control', 'no-store').header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(body);
    const cultureOf = (request: FastifyRequest) => normaliseCulture((request.query as { culture?: string }).culture) ?? resolveCulture(null, request.headers['accept-language']);
    const gone = (request: FastifyRequest, reply: FastifyReply) => html(reply, 404, renderGonePage({ bank: XS2A_SANDBOX_BANK, culture: cultureOf(request) }));
    type TokenParams = { Params: { token: string } };
    const form = (request: FastifyRequest) => (typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, string | undefined>) : {});

    pages.get<TokenParams>('/sca/:token', { config: { html: true } }, async (request, reply) => {
      const found = await theBank().redirectLogin(request.params.token, clock.now());
      if (found === null) return gone(request, reply);
      return html(reply, 200, renderLoginPage({ bank: XS2A_SANDBOX_BANK, culture: cultureOf(request), handle: request.params.token, action: `${prefix}/sca/${encodeURIComponent(request.params.token)}` }));
    });

    pages.post<TokenParams>('/sca/:token', { config: { html: true } }, async (request, reply) => {
      const body = form(request);
      const action = body.action === 'cancel' ? 'cancel' : 'login';
      const result = await theBank().submitRedirectLogin(request.params.token, { action, username: body.username ?? '', password: body.password ?? '' }, clock.now());
      if (result.kind === 'gone') return gone(request, reply);
      if (result.kind === 'redirect') return reply.code(303).header('cache-control', 'no-store').header('location', result.location).send();
      return html(reply, 400, renderLoginPage({ bank: XS2A_SANDBOX_BANK, culture: cultureOf(request), handle: request.params.token, error: result.error, action: `${prefix}/sca/${encodeURIComponent(request.params.token)}` }));
    });

    pages.get<TokenParams>('/app/:token', { config: { html: true } }, async (request, reply) => {
      const found = await theBank().appRequest(request.params.token, clock.now());
      if (found === null) return gone(request, reply);
      const status = found.authorisation.sca_status;
      if (status === 'finalised' || status === 'failed') {
        return html(reply, 200, renderAppDecidedPage({ bank: XS2A_SANDBOX_BANK, culture: cultureOf(request), status: status === 'finalised' ? 'Approved' : 'Rejected' }));
      }
      return html(reply, 200, renderAppPage({ bank: XS2A_SANDBOX_BANK, culture: cultureOf(request), handle: request.params.token, username: found.consent.psu_id ?? '', action: `${prefix}/app/${encodeURIComponent(request.params.token)}` }));
    });

    pages.post<TokenParams>('/app/:token', { config: { html: true } }, async (request, reply) => {
      const body = form(request);
      const token = request.params.token;
      const result = await theBank().decideApp(token, { action: body.action === 'reject' ? 'reject' : 'approve', pin: body.pin ?? '' }, clock.now());
      if (result === 'gone') return gone(request, reply);
      if (result === 'approved' || result === 'rejected') return reply.code(303).header('location', `${prefix}/app/${encodeURIComponent(token)}`).send();
      const found = await theBank().appRequest(token, clock.now());
      return html(reply, 400, renderAppPage({ bank: XS2A_SANDBOX_BANK, culture: cultureOf(request), handle: token, username: found?.consent.psu_id ?? '', error: result, action: `${prefix}/app/${encodeURIComponent(token)}` }));
    });
  });
}

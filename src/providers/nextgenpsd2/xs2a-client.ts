import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { BankAnswerInvalidError, BankUnavailableError } from '../errors.js';
import { signatureHeaders, type SigningCredentials } from './http-signature.js';
import { OpenApiContract, type ContractRequest, type ContractResponse } from './openapi-contract.js';

/**
 * One bank's NextGenPSD2 interface over HTTP, as the Implementation Guidelines want every call:
 * a fresh `X-Request-ID`, JSON, mutual TLS with the operator's QWAC, a sealed request when the bank
 * asks for signatures, and a timeout. Both sides of each call are checked against the Berlin Group's
 * OpenAPI file: a request that breaks it is a bug and is not sent; an answer that breaks it is
 * refused (`BankAnswerInvalidError`). 5xx, timeouts and network failures are `BankUnavailableError`.
 * Certificates, keys, `Consent-ID` and PSU data are never logged or put in an error.
 */

export interface Xs2aEndpoint {
  /** The bank's API root, no trailing slash (`https://xs2a.bank.example/psd2`); paths below it start with `/v1/`. */
  baseUrl: string;
  timeoutMs: number;
  /** Mutual TLS (and the bank's CA, if private) for https; a plain agent for the sandbox over http. */
  agent: http.Agent;
  signing: SigningCredentials | null;
}

export type Xs2aTarget = { path: string } | { href: string };

export interface Xs2aRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `path`: under the base URL (`/v1/consents`); `href`: a link the bank gave, relative or absolute. */
  target: Xs2aTarget;
  query?: Record<string, string>;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

export interface Xs2aResponse {
  status: number;
  headers: Record<string, string | undefined>;
  /** Parsed JSON; undefined without a body. */
  body: unknown;
  operationId: string | null;
}

/** What a test (or a debugging operator) may watch: each call as sent and as answered. */
export interface Xs2aExchange {
  operationId: string | null;
  request: ContractRequest;
  response: ContractResponse | null;
  requestProblems: string[];
  responseProblems: string[];
}

/** The connector built a request the specification does not allow: a bug in Ferry, never sent. */
export class Xs2aRequestInvalidError extends Error {
  constructor(
    readonly operationId: string | null,
    readonly problems: string[],
  ) {
    super(`NextGenPSD2 request ${operationId ?? '(unknown operation)'} breaks the specification: ${problems.join('; ')}`);
    this.name = 'Xs2aRequestInvalidError';
  }
}

/** Answers larger than this are refused (a transaction page is a few hundred kilobytes). */
const MAX_ANSWER_BYTES = 20 * 1024 * 1024;
const USER_AGENT = 'Ferry (NextGenPSD2 connector)';
const IPV6_PSU_PROBLEM = 'header PSU-IP-Address: must match format "ipv4"';

export class Xs2aClient {
  private readonly base: URL;

  constructor(
    private readonly endpoint: Xs2aEndpoint,
    /** The Berlin Group's file by default, read at the first call (not at start-up). */
    private contract?: OpenApiContract,
    private readonly onExchange?: (exchange: Xs2aExchange) => void,
  ) {
    this.base = new URL(`${endpoint.baseUrl}/`);
  }

  /** The absolute URL of a link the bank gave; only its own origin is trusted with Ferry's certificate. */
  resolve(target: Xs2aTarget): URL {
    const url = 'path' in target ? new URL(`${this.endpoint.baseUrl}${target.path}`) : new URL(target.href, this.base);
    if (url.origin !== this.base.origin) throw new BankAnswerInvalidError('the bank linked to another host', ['_links: a link leaves the bank’s origin']);
    return url;
  }

  async send(request: Xs2aRequest): Promise<Xs2aResponse> {
    const url = this.resolve(request.target);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const apiPath = this.apiPath(url);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string | undefined> = {
      'x-request-id': randomUUID(),
      accept: 'application/json',
      date: new Date().toUTCString(),
      'user-agent': USER_AGENT,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    for (const [name, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    if (this.endpoint.signing !== null) Object.assign(headers, signatureHeaders(headers, body ?? '', this.endpoint.signing));

    const contract = (this.contract ??= OpenApiContract.berlinGroup());
    const contractRequest: ContractRequest = { method: request.method, path: apiPath, query: url.searchParams, headers, body: request.body };
    const checked = contract.checkRequest(contractRequest);
    // The 1.3.9 file allows only IPv4 here; the guidelines say "IP address". An IPv6 user's address
    // is sent as it is (the operator may set `tpp.ipAddress` to send the TPP's IPv4 instead).
    const requestProblems = checked.problems.filter((p) => !(p === IPV6_PSU_PROBLEM && /:/.test(headers['psu-ip-address'] ?? '')));
    if (requestProblems.length > 0) {
      this.onExchange?.({ operationId: checked.operationId, request: contractRequest, response: null, requestProblems, responseProblems: [] });
      throw new Xs2aRequestInvalidError(checked.operationId, requestProblems);
    }

    const answer = await this.transmit(url, request.method, headers, body);
    const response: ContractResponse = { status: answer.status, headers: answer.headers, body: answer.body };
    const skipBody = answer.status >= 500 || answer.status === 429;
    const responseProblems = skipBody ? [] : contract.checkResponse(request.method, apiPath, response).problems;
    this.onExchange?.({ operationId: checked.operationId, request: contractRequest, response, requestProblems, responseProblems });

    if (answer.status >= 500) {
      throw new BankUnavailableError(`the bank answered ${answer.status} to ${checked.operationId}`, { status: answer.status, cause: 'ServerError' });
    }
    if (answer.parseError) throw new BankAnswerInvalidError(`the bank's answer to ${checked.operationId} is not JSON`, ['body: not valid JSON']);
    if (responseProblems.length > 0) {
      throw new BankAnswerInvalidError(`the bank's answer to ${checked.operationId} breaks the specification`, responseProblems);
    }
    return { status: answer.status, headers: answer.headers, body: answer.body, operationId: checked.operationId };
  }

  /** The path the specification knows (`/v1/…`): the URL's path below the bank's base path. */
  private apiPath(url: URL): string {
    const basePath = this.base.pathname.replace(/\/$/, '');
    return basePath !== '' && url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname;
  }

  private transmit(url: URL, method: string, headers: Record<string, string | undefined>, body: string | undefined): Promise<{ status: number; headers: Record<string, string | undefined>; body: unknown; parseError: boolean }> {
    const transport = url.protocol === 'https:' ? https : http;
    const outgoing: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) outgoing[name] = value;
    if (body !== undefined) outgoing['content-length'] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method, headers: outgoing, agent: this.endpoint.agent, signal: AbortSignal.timeout(this.endpoint.timeoutMs) }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            response.destroy();
            reject(new BankAnswerInvalidError('the bank’s answer is too large', [`body: more than ${MAX_ANSWER_BYTES} bytes`]));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (error) => reject(this.failure(error)));
        response.on('end', () => {
          const responseHeaders: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(response.headers)) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
          const text = Buffer.concat(chunks).toString('utf8');
          const media = (responseHeaders['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          let parsed: unknown = text === '' ? undefined : text;
          let parseError = false;
          if (text !== '' && (media === 'application/json' || media.endsWith('+json'))) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parseError = true;
            }
          }
          resolve({ status: response.statusCode ?? 0, headers: responseHeaders, body: parsed, parseError });
        });
      });
      request.on('error', (error) => reject(this.failure(error)));
      request.end(body);
    });
  }

  private failure(error: Error & { code?: string }): BankUnavailableError {
    if (error.name === 'AbortError' || error.name === 'TimeoutError' || error.code === 'ABORT_ERR') {
      return new BankUnavailableError(`the bank did not answer within ${this.endpoint.timeoutMs} ms`, { cause: 'Timeout' });
    }
    // The error's code only (ECONNREFUSED, ERR_SSL_…): messages may quote hosts or certificate names.
    return new BankUnavailableError(`the bank could not be reached (${error.code ?? error.name})`, { cause: 'Network', codes: error.code !== undefined ? [error.code] : [] });
  }
}

/** The codes a bank's error answer carries: `tppMessages[].code` (JSON) or RFC 7807 `code` / `additionalErrors[].code`. */
export function bankCodes(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as { tppMessages?: { code?: unknown }[]; code?: unknown; additionalErrors?: { code?: unknown }[] };
  const codes = [...(b.tppMessages ?? []), ...(b.code !== undefined ? [{ code: b.code }] : []), ...(b.additionalErrors ?? [])].map((m) => m?.code);
  return codes.filter((c): c is string => typeof c === 'string');
}

/** `Retry-After` (RFC 9110 §10.2.3): seconds or an HTTP date; null when absent or unreadable. */
export function retryAfter(headers: Record<string, string | undefined>, now: number): number | null {
  const value = headers['retry-after']?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+$/.test(value)) return now + Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(now, date) : null;
}

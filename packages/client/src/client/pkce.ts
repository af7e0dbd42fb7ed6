/**
 * PKCE (RFC 7636) and random values on WebCrypto, which Node 20, Deno, Bun, workers and
 * browsers all have as `globalThis.crypto`.
 */

/** RFC 7636 §4.1: 32 random octets make a 43-character verifier, 256 bits of entropy. */
const VERIFIER_BYTES = 32;

export interface Pkce {
  codeVerifier: string;
  /** BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 §4.2. */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

export async function createPkce(codeVerifier: string = randomString(VERIFIER_BYTES)): Promise<Pkce> {
  // RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(codeVerifier)) throw new TypeError('A PKCE code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9 and -._~ (RFC 7636 §4.1).');
  const digest = await webCrypto().subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier));
  return { codeVerifier, codeChallenge: base64url(new Uint8Array(digest)), codeChallengeMethod: 'S256' };
}

/** `bytes` random octets as base64url, without padding. */
export function randomString(bytes: number): string {
  return base64url(webCrypto().getRandomValues(new Uint8Array(bytes)));
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The part of WebCrypto used here, typed locally so the same source compiles with Node's types and the DOM's. */
interface WebCrypto {
  getRandomValues<T extends Uint8Array>(array: T): T;
  subtle: { digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer> };
}

function webCrypto(): WebCrypto {
  const crypto = (globalThis as { crypto?: WebCrypto }).crypto;
  if (crypto?.subtle === undefined) throw new Error('@ferry/client needs WebCrypto (globalThis.crypto.subtle): Node 20 or later, or a browser in a secure context.');
  return crypto;
}

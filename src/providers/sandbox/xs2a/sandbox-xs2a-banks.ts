import type { Xs2aBank } from '../../nextgenpsd2/bank-config.js';
import type { ScaApproach } from '../../nextgenpsd2/xs2a-model.js';
import type { SandboxBank } from '../banks.js';
import { sandboxBankLogo, sandboxLogoPath } from '../logos.js';

/**
 * Ferry's simulated NextGenPSD2 bank, and the three entries of the bank list that reach it: one
 * per SCA approach, so a developer (and the conformance suite) can walk each. They are configured
 * exactly as an operator configures a real bank; only `sandbox` lets the decoupled one link the
 * bank's simulated "phone".
 */

/** The simulated bank itself: a German bank, for its pages and its generated customers. */
export const XS2A_SANDBOX_BANK: SandboxBank = {
  id: 'SandboxXs2aBank',
  name: 'Sandbox NextGenPSD2 Bank',
  country: 'DE',
  currency: 'EUR',
  bankCode: '10099980',
  loginMethod: 'Redirect',
  numericPassword: false,
  requiresSupervisedUpdate: false,
  colour: '#1d4ed8',
  mark: 'XS',
};

const VARIANTS: readonly { id: string; name: string; approach: ScaApproach }[] = [
  { id: 'SandboxXs2aRedirectBank', name: 'Sandbox NextGenPSD2 Bank (redirect)', approach: 'REDIRECT' },
  { id: 'SandboxXs2aDecoupledBank', name: 'Sandbox NextGenPSD2 Bank (app)', approach: 'DECOUPLED' },
  { id: 'SandboxXs2aEmbeddedBank', name: 'Sandbox NextGenPSD2 Bank (embedded)', approach: 'EMBEDDED' },
];

export const XS2A_SANDBOX_BANK_IDS: readonly string[] = VARIANTS.map((v) => v.id);

/**
 * The three bank entries, calling the simulated bank at `baseUrl` (Ferry itself, `…/sandbox/xs2a`,
 * or a test's own server), with the operator's certificates when the test bank asks for them.
 */
export function sandboxXs2aBanks(baseUrl: string, overrides: Partial<Pick<Xs2aBank, 'tls' | 'serverCa' | 'signing' | 'timeoutMs' | 'features'>> = {}): Xs2aBank[] {
  const logoSvg = sandboxBankLogo(XS2A_SANDBOX_BANK);
  return VARIANTS.map(({ id, name, approach }) => ({
    id,
    name,
    country: XS2A_SANDBOX_BANK.country,
    currency: XS2A_SANDBOX_BANK.currency,
    status: 'Up' as const,
    logoSvg,
    logoUrl: sandboxLogoPath(XS2A_SANDBOX_BANK),
    baseUrl: baseUrl.replace(/\/+$/, ''),
    approaches: [approach],
    // A bank-offered consent is not allowed with the embedded approach (Implementation Guidelines).
    consent: approach === 'EMBEDDED' ? ('allPsd2' as const) : ('bankOffered' as const),
    features: { withBalance: approach === 'DECOUPLED', bookingStatusBoth: true },
    requirePsuId: false,
    frequencyPerDay: 4,
    consentDays: 90,
    historyDays: 730,
    timeoutMs: 30_000,
    tppIpAddress: '127.0.0.1',
    tls: null,
    serverCa: null,
    signing: null,
    sandbox: true,
    ...overrides,
  }));
}

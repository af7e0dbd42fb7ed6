/**
 * The parts of the Berlin Group's data model (psd2-api 1.3.9, `components/schemas`) that Ferry reads
 * and its simulated bank writes. Answers are checked against the OpenAPI file before they are read,
 * so these types describe what a checked answer holds; optional fields stay optional.
 */

export type ScaApproach = 'REDIRECT' | 'DECOUPLED' | 'EMBEDDED';
export const SCA_APPROACHES: readonly ScaApproach[] = ['REDIRECT', 'DECOUPLED', 'EMBEDDED'];

export type ConsentStatus = 'received' | 'rejected' | 'valid' | 'revokedByPsu' | 'expired' | 'terminatedByTpp' | 'partiallyAuthorised';
export type ScaStatus = 'received' | 'psuIdentified' | 'psuAuthenticated' | 'scaMethodSelected' | 'started' | 'unconfirmed' | 'finalised' | 'failed' | 'exempted';

export interface Href {
  href: string;
}
export type Links = Record<string, Href | undefined>;

export interface Amount {
  currency: string;
  /** Decimal with a dot, `-?[0-9]{1,14}(\.[0-9]{1,3})?`. */
  amount: string;
}

export interface AccountReference {
  iban?: string;
  bban?: string;
  maskedPan?: string;
  currency?: string;
}

export interface Balance {
  balanceAmount: Amount;
  balanceType: 'closingBooked' | 'expected' | 'openingBooked' | 'interimAvailable' | 'interimBooked' | 'forwardAvailable' | 'nonInvoiced';
  creditLimitIncluded?: boolean;
  referenceDate?: string;
}

export interface AccountDetails {
  resourceId?: string;
  iban?: string;
  bban?: string;
  msisdn?: string;
  currency: string;
  name?: string;
  displayName?: string;
  product?: string;
  cashAccountType?: string;
  status?: 'enabled' | 'deleted' | 'blocked';
  usage?: 'PRIV' | 'ORGA';
  ownerName?: string;
  balances?: Balance[];
  _links?: Links;
}

export interface Transaction {
  transactionId?: string;
  entryReference?: string;
  bookingDate?: string;
  valueDate?: string;
  transactionAmount: Amount;
  creditorName?: string;
  creditorAccount?: AccountReference;
  debtorName?: string;
  debtorAccount?: AccountReference;
  ultimateCreditor?: string;
  ultimateDebtor?: string;
  remittanceInformationUnstructured?: string;
  remittanceInformationUnstructuredArray?: string[];
  remittanceInformationStructured?: string;
  remittanceInformationStructuredArray?: string[];
  additionalInformation?: string;
  purposeCode?: string;
  bankTransactionCode?: string;
  proprietaryBankTransactionCode?: string;
  balanceAfterTransaction?: Balance;
}

export interface AccountReport {
  booked?: Transaction[];
  pending?: Transaction[];
  information?: Transaction[];
  _links: Links;
}

export interface TransactionsAnswer {
  account?: AccountReference;
  transactions?: AccountReport;
  balances?: Balance[];
}

export interface AuthenticationObject {
  authenticationType: string;
  authenticationMethodId: string;
  authenticationVersion?: string;
  name?: string;
  explanation?: string;
}

export interface ChallengeData {
  image?: string;
  data?: string[];
  imageLink?: string;
  otpMaxLength?: number;
  otpFormat?: 'characters' | 'integer';
  additionalInformation?: string;
}

/** The answers of the consent and authorisation calls, which share these fields. */
export interface ScaAnswer {
  consentId?: string;
  consentStatus?: ConsentStatus;
  authorisationId?: string;
  scaStatus?: ScaStatus;
  scaMethods?: AuthenticationObject[];
  chosenScaMethod?: AuthenticationObject;
  challengeData?: ChallengeData;
  psuMessage?: string;
  _links?: Links;
}

export interface ConsentInformation {
  access: Record<string, unknown>;
  recurringIndicator: boolean;
  validUntil: string;
  frequencyPerDay: number;
  lastActionDate: string;
  consentStatus: ConsentStatus;
}

/** PSD2 RTS art. 36(5): without the user, at most four reads a day unless agreed otherwise. */
export const PSD2_UNATTENDED_READS_PER_DAY = 4;

/** A developer signed in to the portal. */
export interface PortalUser {
  id: string;
  email: string;
  /** Sees and manages every app (`ferry portal grant-operator`, or FERRY_PORTAL_OPERATORS). */
  isOperator: boolean;
}

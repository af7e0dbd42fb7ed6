import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { TemporarilyUnavailable } from '../errors.js';
import { prepareQuery, preparedFor, type FerryDatabase, type QueryParam } from '../db/database.js';
import type { AppRow, Database, FlowSessionRow } from '../db/schema.js';
import type {
  BankAccount,
  FormField,
  LoginErrorText,
  LoginFailureReason,
  LoginState,
  ProviderConnection,
} from '../providers/types.js';
import type { SignInState } from '../accounts/sign-in-state.js';
import { FLOW_IDLE_TIMEOUT_MS } from './session.js';

/**
 * The hosted flow's steps, in order (seed page: consent → bank → bank login → accounts → done;
 * the regular flow signs in to a Ferry account after the consent), and the two ends a flow can reach. The `step` column holds one of these, or a step with
 * {@link BUSY} appended while one request works on it (see {@link claimStep}).
 */
export const FLOW_STEPS = ['consent', 'signin', 'bank', 'login', 'accounts', 'done'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];
export type FlowEnd = 'returned' | 'cancelled';
export type FlowPosition = FlowStep | FlowEnd;
/** What the `step` column may hold: a position, or a step some request is working on. */
export type StepValue = FlowPosition | `${FlowStep}:busy`;

const BUSY = ':busy';
/** A claim older than this was left by a request that died: the step may be claimed again. */
export const STALE_CLAIM_MS = 60_000;
/** The idle deadline moves at most once a minute, so most page views write nothing. */
const EXTEND_EVERY_MS = 60_000;

/** What the hosted flow keeps between requests, in the row's `data` JSON (nothing in memory). */
export interface FlowData {
  providerId?: string;
  login?: LoginProgress;
  connection?: ProviderConnection;
  accounts?: BankAccount[];
  /** The consent's deletion deadline (one-time flow), for the done page. */
  deleteAt?: number | null;
  accountCount?: number;
  /** Names of the shared accounts, for the done page (the consent holds the accounts themselves). */
  sharedAccounts?: { name: string; number: string | null }[];
  /** The login failure the user left on, which decides the error the app gets back. */
  failure?: LoginFailureReason | 'Error';
  /** The redirect back to the app, sealed with the browser's cookie (see `return-seal.ts`). */
  returnSeal?: string;
  /** SHA-256 of the ticket the claim link carries (see `claimTicket`). */
  claimTicketHash?: string;
  /** Why the flow ended without a consent, for its closing page. */
  endReason?: 'cancelled' | 'failed';
  /** The regular flow's sign-in in progress (src/accounts/sign-in-state.ts): the address, whether a code went to it. */
  signIn?: SignInState;
  /** The Ferry user who signed in at the sign-in step: the consent becomes theirs. */
  userId?: string;
  /** The Ferry user who claimed the connection at step 5 (src/accounts/claim.ts). */
  claimedBy?: string;
}

export interface LoginProgress {
  /** The provider's opaque state; null once the login failed. */
  state: LoginState | null;
  view: LoginView;
  /** Text fields the user typed (never passwords or codes), to fill in again after an error. */
  prefill?: Record<string, string>;
  lastPollAt?: number;
}

export type LoginView =
  | { kind: 'form'; title: string; fields: FormField[]; error?: LoginErrorText }
  | { kind: 'redirect'; url: string }
  | { kind: 'poll'; message: string; pollAfterMs: number; approveUrl?: string }
  | { kind: 'failed'; reason: LoginFailureReason | 'Error'; message: string; retryable: boolean };

/** A flow row with its app, as every hosted-flow request needs both. */
export interface LoadedFlow {
  flow: FlowSessionRow;
  app: Pick<AppRow, 'id' | 'name' | 'logo_url' | 'brand_color'>;
}

export function isFlowId(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function parseFlowData(flow: FlowSessionRow): FlowData {
  return JSON.parse(flow.data) as FlowData;
}

/** The step a flow is at, without a busy marker. */
export function flowPosition(flow: Pick<FlowSessionRow, 'step'>): FlowPosition {
  return (flow.step.endsWith(BUSY) ? flow.step.slice(0, -BUSY.length) : flow.step) as FlowPosition;
}

export function isBusy(flow: Pick<FlowSessionRow, 'step' | 'updated_at'>, now: number): boolean {
  return flow.step.endsWith(BUSY) && now - flow.updated_at < STALE_CLAIM_MS;
}

export function isEnded(position: FlowPosition): position is FlowEnd {
  return position === 'returned' || position === 'cancelled';
}

/** Loads a flow and its app, expired or not (an expired flow still gets a page that links back). */
export type FlowReader = (id: string) => Promise<LoadedFlow | undefined>;

const FLOW_COLUMNS = [
  'flow_sessions.id',
  'flow_sessions.app_id',
  'flow_sessions.redirect_uri',
  'flow_sessions.state',
  'flow_sessions.scopes',
  'flow_sessions.params',
  'flow_sessions.code_challenge',
  'flow_sessions.browser_hash',
  'flow_sessions.step',
  'flow_sessions.data',
  'flow_sessions.consent_id',
  'flow_sessions.created_at',
  'flow_sessions.updated_at',
  'flow_sessions.expires_at',
  'apps.name as app_name',
  'apps.logo_url as app_logo_url',
  'apps.brand_color as app_brand_color',
] as const;

function flowQuery(db: Kysely<Database>) {
  return db.selectFrom('flow_sessions').innerJoin('apps', 'apps.id', 'flow_sessions.app_id').select(FLOW_COLUMNS);
}

type FlowQueryRow = Omit<FlowSessionRow, never> & { app_name: string; app_logo_url: string | null; app_brand_color: string | null };

function toLoadedFlow(row: FlowQueryRow | undefined): LoadedFlow | undefined {
  if (row === undefined) return undefined;
  const { app_name, app_logo_url, app_brand_color, ...flow } = row;
  return { flow, app: { id: flow.app_id, name: app_name, logo_url: app_logo_url, brand_color: app_brand_color } };
}

/**
 * The flow reader every hosted-flow request starts with (several times per user): with the
 * database at hand, one query compiled and prepared once (src/db/database.ts `prepareQuery`);
 * otherwise through Kysely.
 */
export function createFlowReader(db: Kysely<Database>, database?: FerryDatabase): FlowReader {
  if (database === undefined) return async (id) => toLoadedFlow(await flowQuery(db).where('flow_sessions.id', '=', id).executeTakeFirst());
  const query = prepareQuery(database, (kysely, param: QueryParam<{ id: string }>) => flowQuery(kysely).where('flow_sessions.id', '=', param('id')));
  return async (id) => toLoadedFlow(await query.first({ id }));
}

/** Binds a fresh flow to a browser: only the first browser to present the handle wins. */
export async function bindBrowser(db: Kysely<Database>, id: string, browserHash: string, now: number): Promise<boolean> {
  const build = (kysely: Kysely<Database>, p: QueryParam<{ id: string; browserHash: string; now: number; expiresAt: number }>) =>
    kysely
      .updateTable('flow_sessions')
      .set({ browser_hash: p('browserHash'), updated_at: p('now'), expires_at: p('expiresAt') })
      .where('id', '=', p('id'))
      .where('browser_hash', 'is', null)
      .where('expires_at', '>', p('now'));
  const params = { id, browserHash, now, expiresAt: now + FLOW_IDLE_TIMEOUT_MS };
  const prepared = preparedFor(db, 'bindBrowser', build);
  if (prepared !== undefined) return (await prepared.write(params)) === 1;
  const result = await build(db, (name) => params[name]).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Moves the idle deadline (30 minutes without activity), at most once a minute. */
export async function extendIdleDeadline(db: Kysely<Database>, flow: FlowSessionRow, now: number): Promise<void> {
  const deadline = now + FLOW_IDLE_TIMEOUT_MS;
  if (deadline - flow.expires_at < EXTEND_EVERY_MS) return;
  const build = (kysely: Kysely<Database>, p: QueryParam<{ id: string; now: number; deadline: number }>) =>
    kysely.updateTable('flow_sessions').set({ expires_at: p('deadline') }).where('id', '=', p('id')).where('expires_at', '>', p('now'));
  const params = { id: flow.id, now, deadline };
  const prepared = preparedFor(db, 'extendIdleDeadline', build);
  if (prepared !== undefined) await prepared.write(params);
  else await build(db, (name) => params[name]).execute();
  flow.expires_at = deadline;
}

/**
 * Moves a flow from one step to the next in one conditional UPDATE: of two identical posts, one
 * moves it and the other finds it moved. Returns false when the flow was not at `from`.
 */
export async function moveStep(
  db: Kysely<Database>,
  id: string,
  from: StepValue | readonly StepValue[],
  to: FlowPosition,
  data: FlowData | undefined,
  now: number,
): Promise<boolean> {
  const fromSteps = typeof from === 'string' ? [from] : from;
  type Params = Record<string, string | number>;
  const params: Params = { id, to, now, expiresAt: now + FLOW_IDLE_TIMEOUT_MS };
  fromSteps.forEach((step, i) => (params[`from${i}`] = step));
  if (data !== undefined) params.data = JSON.stringify(data);
  const build = (kysely: Kysely<Database>, p: QueryParam<Params>) =>
    kysely
      .updateTable('flow_sessions')
      .set({
        step: p('to') as string,
        updated_at: p('now') as number,
        expires_at: p('expiresAt') as number,
        ...(data !== undefined ? { data: p('data') as string } : {}),
      })
      .where('id', '=', p('id') as string)
      .where(
        'step',
        'in',
        fromSteps.map((_, i) => p(`from${i}`) as string),
      )
      .where('expires_at', '>', p('now') as number);
  const prepared = preparedFor(db, `moveStep:${fromSteps.length}:${data !== undefined}`, build);
  if (prepared !== undefined) return (await prepared.write(params)) === 1;
  const result = await build(db, (name) => params[name]!).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Claims a step for work with side effects at the bank (start a login, send a password, poll):
 * the step is marked busy in one conditional UPDATE, so of two identical posts only one calls the
 * bank. The winner ends the claim with {@link moveStep} from the busy marker (see
 * {@link busy}); a claim left by a request that died goes stale after {@link STALE_CLAIM_MS}.
 */
export async function claimStep(db: Kysely<Database>, flow: FlowSessionRow, step: FlowStep, now: number): Promise<boolean> {
  const build = (kysely: Kysely<Database>, p: QueryParam<{ id: string; step: string; busy: string; now: number; staleBefore: number }>) =>
    kysely
      .updateTable('flow_sessions')
      .set({ step: p('busy'), updated_at: p('now') })
      .where('id', '=', p('id'))
      .where('expires_at', '>', p('now'))
      .where((eb) => eb.or([eb('step', '=', p('step')), eb.and([eb('step', '=', p('busy')), eb('updated_at', '<', p('staleBefore'))])]));
  const params = { id: flow.id, step, busy: busy(step), now, staleBefore: now - STALE_CLAIM_MS };
  const prepared = preparedFor(db, 'claimStep', build);
  if (prepared !== undefined) return (await prepared.write(params)) === 1;
  const result = await build(db, (name) => params[name]).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The busy marker of a step, as `moveStep`'s `from`. */
export function busy(step: FlowStep): StepValue {
  return `${step}:busy`;
}

/**
 * Waits for another request's claim on the flow to end (a double-posted form: the browser shows
 * the second answer, which must reflect the first one's work), then returns the row as it is.
 * A claim that outlasts the wait (the bank is that slow, or the process that made the claim died
 * and the claim holds until it goes stale) is a `503` with Retry-After: the page the user gets says
 * to try again in a moment, rather than showing the step's form again as if nothing were under way.
 * The wait ends after `timeoutMs` of real time or of the injected clock, whichever comes first.
 */
export async function waitWhileBusy(readFlow: FlowReader, clock: Clock, loaded: LoadedFlow, timeoutMs = 15_000): Promise<LoadedFlow> {
  let current = loaded;
  const started = Date.now();
  const startedOnClock = clock.now();
  while (isBusy(current.flow, clock.now())) {
    if (Date.now() - started >= timeoutMs || clock.now() - startedOnClock >= timeoutMs) {
      throw new TemporarilyUnavailable('An earlier request of this flow is still being handled; try again in a moment.', `flow step ${current.flow.step} still claimed`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
    const reloaded = await readFlow(loaded.flow.id);
    if (reloaded === undefined) return current;
    current = reloaded;
  }
  return current;
}

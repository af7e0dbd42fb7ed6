import type { FastifyBaseLogger } from 'fastify';
import { isOneTime, parseScopeList } from '../oauth/scopes.js';
import type { BankProvider, LoginContext, LoginInput, LoginStep } from '../providers/types.js';
import { currentStepPath, type FlowContext, type FlowEnvironment } from './flow-context.js';
import {
  busy,
  claimStep,
  flowPosition,
  moveStep,
  waitWhileBusy,
  type FlowData,
  type FlowPosition,
  type FlowStep,
  type LoginView,
} from './flow-store.js';
import { flowPath } from './pages/layout.js';

/**
 * Step 3, the bank login, as the hosted flow drives the provider's login state machine: each call
 * to the bank happens under a claim on the flow row (see `claimStep`), so a form posted twice, a
 * poll racing a reload, or a bank callback replayed by the back button reaches the bank once.
 */
export interface LoginDeps extends FlowEnvironment {
  log: FastifyBaseLogger;
}

export function loginContext(env: FlowEnvironment, ctx: FlowContext): LoginContext {
  return {
    culture: ctx.culture,
    publicUrl: env.publicUrl,
    returnUrl: `${env.publicUrl}${flowPath(ctx.flow.id, 'callback')}`,
    now: () => env.clock.now(),
    // A one-time consent asks the bank for a one-off consent (NextGenPSD2 recurringIndicator false).
    oneTime: isOneTime(parseScopeList(ctx.flow.scopes)),
    ...(ctx.psu !== undefined ? { psu: ctx.psu } : {}),
  };
}

/** Starts a login at the chosen bank, from the step the user is on (consent with `providerId`, bank, or a retry). */
export async function beginLogin(deps: LoginDeps, ctx: FlowContext, provider: BankProvider, from: FlowStep): Promise<string> {
  const providerId = provider.describe().id;
  const base: FlowData = { ...withoutLogin(ctx.data), providerId };
  return underClaim(deps, ctx, from, base, async () => {
    if (provider.describe().status === 'Down') {
      return { kind: 'failed', reason: 'BankUnavailable', message: '', retryable: true } satisfies LoginStep;
    }
    return provider.startLogin(loginContext(deps, ctx));
  }, provider);
}

/** Sends the user's input (a form, the bank's callback, or a poll) to the login in progress. */
export async function continueLogin(deps: LoginDeps, ctx: FlowContext, provider: BankProvider, input: LoginInput): Promise<string> {
  const state = ctx.data.login?.state;
  if (state === null || state === undefined) return currentStepPath(ctx.flow.id, ctx.position);
  const prefill = input.kind === 'form' ? textPrefill(ctx, input.fields) : ctx.data.login?.prefill;
  const base: FlowData = { ...ctx.data, ...(prefill !== undefined ? { login: { ...ctx.data.login!, prefill } } : {}) };
  return underClaim(deps, ctx, 'login', base, () => provider.continueLogin(state, input, loginContext(deps, ctx)), provider);
}

/**
 * Asks the bank whether the user approved yet, unless another request is asking right now.
 * Returns whether the flow moved on (the page then goes where the flow is).
 */
export async function pollLogin(deps: LoginDeps, ctx: FlowContext, provider: BankProvider): Promise<boolean> {
  const state = ctx.data.login?.state;
  if (ctx.data.login?.view.kind !== 'poll' || state === null || state === undefined) return false;
  if (!(await claimStep(deps.db, ctx.flow, 'login', deps.clock.now()))) return false;
  const { position, data } = await runLoginStep(deps, ctx, provider, ctx.data, () => provider.continueLogin(state, { kind: 'poll' }, loginContext(deps, ctx)));
  await moveStep(deps.db, ctx.flow.id, busy('login'), position, data, deps.clock.now());
  return position !== 'login' || data.login?.view.kind !== 'poll';
}

/** Whether the waiting page should ask the bank again now (the provider says how often). */
export function pollIsDue(ctx: FlowContext, now: number): boolean {
  const login = ctx.data.login;
  if (login?.view.kind !== 'poll') return false;
  return now - (login.lastPollAt ?? 0) >= login.view.pollAfterMs * 0.8;
}

type LoginCall = () => Promise<LoginStep>;

async function underClaim(deps: LoginDeps, ctx: FlowContext, from: FlowStep, base: FlowData, call: LoginCall, provider: BankProvider): Promise<string> {
  if (!(await claimStep(deps.db, ctx.flow, from, deps.clock.now()))) return afterLostClaim(deps, ctx);
  const { position, data, location } = await runLoginStep(deps, ctx, provider, base, call);
  const moved = await moveStep(deps.db, ctx.flow.id, busy(from), position, data, deps.clock.now());
  return moved ? location : afterLostClaim(deps, ctx);
}

/** Another request holds (or held) the claim: wait for it, then go where the flow is now. */
async function afterLostClaim(deps: LoginDeps, ctx: FlowContext): Promise<string> {
  const fresh = (await deps.readFlow(ctx.flow.id)) ?? ctx.loaded;
  const settled = await waitWhileBusy(deps.readFlow, deps.clock, fresh);
  return currentStepPath(ctx.flow.id, flowPosition(settled.flow));
}

/** Calls the bank and turns its answer into the flow's next position, data and page. A bank that throws is a failure the user can retry. */
async function runLoginStep(
  deps: LoginDeps,
  ctx: FlowContext,
  provider: BankProvider,
  base: FlowData,
  call: LoginCall,
): Promise<{ position: FlowPosition; data: FlowData; location: string }> {
  const now = deps.clock.now();
  const loginPage = flowPath(ctx.flow.id, 'login');
  const failed = (view: Extract<LoginView, { kind: 'failed' }>) => ({
    position: 'login' as const,
    data: { ...withoutLogin(base), login: { state: null, view } },
    location: loginPage,
  });
  let step: LoginStep;
  try {
    step = await call();
  } catch (error) {
    deps.log.error({ err: error, providerId: provider.describe().id }, 'bank login step failed');
    return failed({ kind: 'failed', reason: 'Error', message: '', retryable: true });
  }
  switch (step.kind) {
    case 'form':
      return {
        position: 'login',
        data: {
          ...base,
          login: {
            state: step.state,
            view: { kind: 'form', title: step.title, fields: step.fields, ...(step.error !== undefined ? { error: step.error } : {}) },
            ...(base.login?.prefill !== undefined ? { prefill: base.login.prefill } : {}),
          },
        },
        location: loginPage,
      };
    case 'redirect':
      return { position: 'login', data: { ...base, login: { state: step.state, view: { kind: 'redirect', url: step.url } } }, location: step.url };
    case 'poll':
      return {
        position: 'login',
        data: {
          ...base,
          login: {
            state: step.state,
            view: { kind: 'poll', message: step.message, pollAfterMs: step.pollAfterMs, ...(step.approveUrl !== undefined ? { approveUrl: step.approveUrl } : {}) },
            lastPollAt: now,
          },
        },
        location: loginPage,
      };
    case 'failed':
      return failed({ kind: 'failed', reason: step.reason, message: step.message, retryable: step.retryable });
    case 'done': {
      try {
        // The user is here: this read is one of the bank's user-present reads, not the day's budget.
        const accounts = await provider.listAccounts(step.connection, { now: () => deps.clock.now(), userPresent: true, ...(ctx.psu !== undefined ? { psu: ctx.psu } : {}) });
        return {
          position: 'accounts',
          data: { ...withoutLogin(base), connection: step.connection, accounts },
          location: flowPath(ctx.flow.id, 'accounts'),
        };
      } catch (error) {
        deps.log.error({ err: error, providerId: provider.describe().id }, 'listing accounts failed');
        return failed({ kind: 'failed', reason: 'Error', message: '', retryable: true });
      }
    }
  }
}

/** The text fields the user typed, to fill in again after an error; never passwords or one-time codes. */
function textPrefill(ctx: FlowContext, fields: Record<string, string>): Record<string, string> | undefined {
  const view = ctx.data.login?.view;
  if (view?.kind !== 'form') return undefined;
  const prefill: Record<string, string> = {};
  for (const field of view.fields) {
    if (field.type === 'text' && fields[field.name] !== undefined) prefill[field.name] = fields[field.name]!.slice(0, 200);
  }
  return prefill;
}

export function withoutLogin(data: FlowData): FlowData {
  const { login: _login, connection: _connection, accounts: _accounts, ...rest } = data;
  return rest;
}

import type { FastifyInstance } from 'fastify';
import { Page, renderPage } from '../http/page.js';
import type { Culture } from '../providers/types.js';
import { formatNumber } from './format.js';
import { FLOW_MESSAGES, type FlowMessages, type MessageKey } from './messages.js';
import { fill } from './text.js';
import { requestCulture } from './flow-context.js';

export interface LegalRoutesOptions {
  /** How long one-time data lives, for the texts that promise it. */
  oneTimeRetentionMs: number;
}

/** Where "Back" may lead: a hosted-flow page, nothing else (no open redirect). */
const BACK_TARGET = /^\/flow\/[A-Za-z0-9_-]{43}\/[a-z]+$/;

const PAGES: Record<'terms' | 'privacy', { title: MessageKey; intro: MessageKey; paragraphs: MessageKey[] }> = {
  terms: { title: 'termsTitle', intro: 'termsIntro', paragraphs: ['terms1', 'terms2', 'terms3', 'terms4', 'terms5'] },
  privacy: { title: 'privacyTitle', intro: 'privacyIntro', paragraphs: ['privacy1', 'privacy2', 'privacy3', 'privacy4', 'privacy5', 'privacy6'] },
};

/**
 * Ferry's own terms of use and privacy policy, short and honest, in the flow's languages.
 * An operator who has their own points `FERRY_TERMS_URL` / `FERRY_PRIVACY_URL` at them instead.
 */
export async function legalRoutes(app: FastifyInstance, options: LegalRoutesOptions): Promise<void> {
  for (const page of ['terms', 'privacy'] as const) {
    app.get<{ Querystring: { from?: string } }>(`/${page}`, { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
      const culture = requestCulture(request, null);
      const from = typeof request.query.from === 'string' && BACK_TARGET.test(request.query.from) ? request.query.from : null;
      reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
      return renderPage(<LegalPage culture={culture} t={FLOW_MESSAGES[culture]} page={page} back={from} hours={options.oneTimeRetentionMs / 3_600_000} />);
    });
  }
}

function LegalPage({ culture, t, page, back, hours }: { culture: Culture; t: FlowMessages; page: keyof typeof PAGES; back: string | null; hours: number }) {
  const spec = PAGES[page];
  const values = { hours: formatNumber(culture, hours) };
  return (
    <Page culture={culture} title={`${t[spec.title]} – Ferry`} styles={['/assets/flow.css']}>
      <div class="flow">
        <main class="flow-card legal" id="main">
          {back !== null ? (
            <p class="back-link">
              <a href={back}>
                <span aria-hidden="true">‹ </span>
                {t.legalBack}
              </a>
            </p>
          ) : null}
          <h1>{t[spec.title]}</h1>
          <p class="lead">{t[spec.intro]}</p>
          {spec.paragraphs.map((key) => (
            <p key={key}>{fill(t[key], values)}</p>
          ))}
        </main>
      </div>
    </Page>
  );
}

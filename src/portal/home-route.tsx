import type { FastifyInstance } from 'fastify';
import { Page, renderPage } from '../http/page.js';
import { PORTAL_STYLESHEET } from './pages/layout.js';

/**
 * Ferry's home page: what this deployment is, and where to go — the developer portal for app
 * developers, the API reference, and the demo app when it is on.
 */
export async function homeRoute(app: FastifyInstance, options: { demo: boolean }): Promise<void> {
  // Ferry accounts' pages, when this deployment serves them (src/accounts/).
  const accounts = app.hasRoute({ method: 'GET', url: '/account' });
  app.get('/', { schema: { hide: true }, config: { html: true } }, async (_request, reply) =>
    reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(
        renderPage(
          <Page culture="en" title="Ferry" styles={[PORTAL_STYLESHEET]}>
            <header class="portal-header">
              <a class="portal-brand" href="/">
                Ferry
              </a>
            </header>
            <main class="portal-main" id="main">
              <h1>Ferry</h1>
              <p>A self-hostable open-banking connect service, wire-compatible with Aiia Data: apps send their users here to connect a bank, then read accounts and transactions through the API.</p>
              <h2>Developer portal</h2>
              <p>Register your app, get its client id and secret, manage its redirect URLs, webhooks and consents, and follow the quick start to a first sandbox connection and token.</p>
              <p>
                <a class="button" href="/portal">
                  Open the developer portal
                </a>
              </p>
              <h2>More</h2>
              <ul>
                <li>
                  <a href="/docs">API reference</a> (OpenAPI at <a href="/docs/json">/docs/json</a>)
                </li>
                {accounts ? (
                  <li>
                    <a href="/account">My connections</a>: the banks you shared with apps through Ferry
                  </li>
                ) : null}
                {options.demo ? (
                  <li>
                    <a href="/demo">Demo app</a>: connect a sandbox bank and see what an app receives
                  </li>
                ) : null}
              </ul>
            </main>
          </Page>,
        ),
      ),
  );
}

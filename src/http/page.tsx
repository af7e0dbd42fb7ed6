import type { ComponentChildren } from 'preact';
import { render } from 'preact-render-to-string';
import { languageTag } from '../i18n/culture.js';
import type { Culture } from '../providers/types.js';

export interface PageProps {
  culture: Culture;
  title: string;
  children: ComponentChildren;
  /** Extra stylesheets and scripts (own assets only; CSP forbids inline ones). */
  styles?: string[];
  scripts?: string[];
  /** Seconds until the page reloads itself (no-JavaScript polling). */
  refreshSeconds?: number;
  /** Like `refreshSeconds`, but only when scripting is off (a script does the polling otherwise). */
  noscriptRefreshSeconds?: number;
}

/** The HTML shell of every page Ferry renders. */
export function Page(props: PageProps) {
  return (
    <html lang={languageTag(props.culture)}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        {props.refreshSeconds !== undefined ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
        {props.noscriptRefreshSeconds !== undefined ? (
          <noscript>
            <meta http-equiv="refresh" content={String(props.noscriptRefreshSeconds)} />
          </noscript>
        ) : null}
        <title>{props.title}</title>
        <link rel="stylesheet" href="/assets/ferry.css" />
        {(props.styles ?? []).map((href) => (
          <link rel="stylesheet" href={href} key={href} />
        ))}
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer key={src} />
        ))}
      </head>
      <body>{props.children}</body>
    </html>
  );
}

export function renderPage(element: preact.VNode): string {
  return `<!doctype html>${render(element)}`;
}

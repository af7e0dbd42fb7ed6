import type { ComponentChildren } from 'preact';
import { FlowPage, type FlowView } from './layout.js';

export interface EndPageProps {
  view: FlowView;
  title: string;
  children: ComponentChildren;
  /** Where the user goes next: always somewhere, never a dead end. */
  action?: { href: string; label: string };
  /** The action is a form post (e.g. back to the current step), not a link. */
  tone?: 'neutral' | 'warning';
}

/** A page for a flow that ended, expired or cannot go on in this browser: what happened and where to go. */
export function EndPage({ view, title, children, action, tone }: EndPageProps) {
  return (
    <FlowPage view={view} title={title}>
      <div class={tone === 'warning' ? 'notice notice-warning' : 'notice'}>{children}</div>
      {action !== undefined ? (
        <p class="step-form">
          <a class="button button-primary" href={action.href}>
            {action.label}
          </a>
        </p>
      ) : null}
    </FlowPage>
  );
}

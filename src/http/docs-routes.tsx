import type { FastifyInstance } from 'fastify';
import { Page, renderPage } from './page.js';

interface OpenApiOperation {
  summary?: string;
  description?: string;
  tags?: string[];
  deprecated?: boolean;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: { type?: string | string[]; enum?: unknown[] } }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}

type OpenApiDocument = {
  info: { title: string; description?: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
};

/**
 * `/docs/json`: the OpenAPI document, generated from the same schemas that validate the routes.
 * `/docs`: a readable page of it, server-rendered (no third-party UI, no inline script).
 */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/docs/json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return app.swagger();
  });

  app.get('/docs', { schema: { hide: true }, config: { html: true } }, async (_request, reply) => {
    const document = app.swagger() as unknown as OpenApiDocument;
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache');
    return renderPage(<DocsPage document={document} />);
  });
}

const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete'];

function DocsPage({ document }: { document: OpenApiDocument }) {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => METHOD_ORDER.includes(method))
      .map(([method, op]) => ({ path, method, op, tag: op.tags?.[0] ?? 'Other' })),
  );
  const tags = [...new Set(operations.map((o) => o.tag))];
  return (
    <Page culture="en" title={`${document.info.title} — reference`} styles={['/assets/docs.css']}>
      <main class="docs">
        <h1>{document.info.title}</h1>
        {document.info.description ? <p>{document.info.description}</p> : null}
        <p>
          The machine-readable OpenAPI document: <a href="/docs/json">/docs/json</a>.
        </p>
        <nav aria-label="Endpoints">
          <ul>
            {tags.map((tag) => (
              <li key={tag}>
                <a href={`#tag-${tag}`}>{tag}</a>
              </li>
            ))}
          </ul>
        </nav>
        {tags.map((tag) => (
          <section key={tag} aria-labelledby={`tag-${tag}`}>
            <h2 id={`tag-${tag}`}>{tag}</h2>
            {operations
              .filter((o) => o.tag === tag)
              .map(({ path, method, op }) => (
                <article class="operation" key={`${method} ${path}`}>
                  <h3>
                    <span class={`method method-${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
                    {op.deprecated ? <span class="badge">deprecated</span> : null}
                  </h3>
                  {op.summary ? <p>{op.summary}</p> : null}
                  {op.description ? <p class="muted">{op.description}</p> : null}
                  {op.security && op.security.length > 0 ? <p class="small">Requires a bearer access token.</p> : null}
                  {op.parameters && op.parameters.length > 0 ? (
                    <div class="table-scroll">
                      <table>
                        <caption class="small muted">Parameters</caption>
                        <thead>
                          <tr>
                            <th scope="col">name</th>
                            <th scope="col">in</th>
                            <th scope="col">type</th>
                            <th scope="col">about</th>
                          </tr>
                        </thead>
                        <tbody>
                          {op.parameters.map((p) => (
                            <tr key={`${p.in}-${p.name}`}>
                              <td>
                                <code>{p.name}</code>
                                {p.required ? <span class="required"> (required)</span> : ''}
                              </td>
                              <td class="in">{p.in}</td>
                              <td class="type">{p.schema?.enum ? p.schema.enum.join(' | ') : String(p.schema?.type ?? '')}</td>
                              <td>{p.description ?? ''}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  ) : null}
                  {op.requestBody?.content ? (
                    <details>
                      <summary>Request body</summary>
                      <pre>{JSON.stringify(Object.values(op.requestBody.content)[0]?.schema ?? {}, null, 2)}</pre>
                    </details>
                  ) : null}
                  {op.responses ? (
                    <details>
                      <summary>Responses: {Object.keys(op.responses).join(', ')}</summary>
                      {Object.entries(op.responses).map(([status, response]) => (
                        <div key={status}>
                          <h4>
                            {status} {response.description && response.description !== 'Default Response' ? `— ${response.description}` : ''}
                          </h4>
                          {response.content ? <pre>{JSON.stringify(Object.values(response.content)[0]?.schema ?? {}, null, 2)}</pre> : null}
                        </div>
                      ))}
                    </details>
                  ) : null}
                </article>
              ))}
          </section>
        ))}
        {document.components?.schemas ? (
          <section aria-labelledby="schemas">
            <h2 id="schemas">Schemas</h2>
            {Object.entries(document.components.schemas).map(([name, schema]) => (
              <details key={name}>
                <summary>
                  <code>{name}</code>
                </summary>
                <pre>{JSON.stringify(schema, null, 2)}</pre>
              </details>
            ))}
          </section>
        ) : null}
      </main>
    </Page>
  );
}

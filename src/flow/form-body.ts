import type { FastifyInstance } from 'fastify';

/** A parsed HTML form: a field sent once is a string, a field sent several times (checkboxes) an array. */
export type FormBody = Record<string, string | string[] | undefined>;

/** The hosted flow's forms are small; anything bigger is refused before it is parsed. */
export const FORM_BODY_LIMIT = 64 * 1024;

/** `application/x-www-form-urlencoded` for the hosted flow's forms, in the flow plugin only. */
export function registerFormBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    const form: FormBody = Object.create(null) as FormBody;
    for (const [key, value] of new URLSearchParams(body as string)) {
      const existing = form[key];
      if (existing === undefined) form[key] = value;
      else if (Array.isArray(existing)) {
        if (existing.length < 500) existing.push(value);
      } else form[key] = [existing, value];
    }
    done(null, form);
  });
}

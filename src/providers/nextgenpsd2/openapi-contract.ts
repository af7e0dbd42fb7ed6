import fs from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * The Berlin Group's NextGenPSD2 OpenAPI file as a contract Ferry checks HTTP exchanges against:
 * what the connector sends a bank (path, query, headers, body) and what a bank answers (status,
 * headers, body). The connector checks both sides of every call at run time, and the simulated bank
 * checks both sides again on its end, so a test proves the wire format from two directions.
 *
 * The file is OpenAPI 3.0.1, whose schemas are close to JSON Schema draft 4. Two of its constructs
 * are read the way the Berlin Group's Implementation Guidelines mean them, so Ajv can check them:
 * - `exclusiveMinimum: false` (the 3.0 boolean form, on `frequencyPerDay`) is dropped: JSON Schema
 *   draft 7 wants a number there, and `false` only restates the plain `minimum`.
 * - `oneOf` lists "different bodies" whose alternatives overlap (none closes its properties, and an
 *   update-PSU-data body lists `{}`), so no body could match exactly one: they are read as `anyOf`,
 *   with `{}` meaning the empty body the guidelines show for it ("value: {}").
 * Problems name the place and the rule broken, never the value, so they are safe to log.
 */

/** A request as sent: `path` is relative to the bank's base URL, e.g. `/v1/consents`. */
export interface ContractRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body, or undefined when there is none. */
  body?: unknown;
}

export interface ContractResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body; undefined when the answer had none; the raw text when it was not JSON. */
  body?: unknown;
}

export interface ContractCheck {
  /** The operation the exchange matched (`createConsent`…), or null when no path matched. */
  operationId: string | null;
  problems: string[];
}

const SPEC_FILE = new URL('./spec/psd2-api-1.3.9-2021-05-04.json', import.meta.url);
const SPEC_ID = 'psd2';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schemaPointer: string | null;
  schema: Json | null;
}

interface Operation {
  operationId: string;
  template: string;
  segments: string[];
  literalSegments: number;
  parameters: Parameter[];
  requestBody: { required: boolean; content: Record<string, string> } | null;
  responses: Map<string, { headers: { name: string; required: boolean; schemaPointer: string | null }[]; content: Record<string, string> }>;
}

// ajv-formats is CommonJS with a default export; under NodeNext its default is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

let shared: OpenApiContract | undefined;

export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly operations: Map<string, Operation[]>;
  private readonly validators = new Map<string, ValidateFunction>();

  private constructor(private readonly document: Json) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, addUsedSchema: false });
    addFormats(this.ajv);
    // Used on `Location` and `imageLink`; OpenAPI lists it among its open formats.
    this.ajv.addFormat('url', { type: 'string', validate: (value: string) => URL.canParse(value) || value.startsWith('/') });
    this.ajv.addSchema(document, SPEC_ID);
    this.operations = indexOperations(document);
  }

  /** The Berlin Group's file, read once per process. */
  static berlinGroup(): OpenApiContract {
    shared ??= new OpenApiContract(readAsJsonSchema(JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8')) as Json));
    return shared;
  }

  /** The operation a method and path (relative to the bank's base URL) stand for. */
  operationId(method: string, path: string): string | null {
    return this.match(method, path)?.operation.operationId ?? null;
  }

  checkRequest(request: ContractRequest): ContractCheck {
    const matched = this.match(request.method, request.path);
    if (matched === null) return { operationId: null, problems: [`${request.method} ${request.path}: no such operation in the specification`] };
    const { operation, pathValues } = matched;
    const problems: string[] = [];
    const declared = new Set<string>();
    for (const parameter of operation.parameters) {
      const where = `${parameter.in} ${parameter.name}`;
      if (parameter.in === 'path') {
        this.checkValue(where, parameter, pathValues.get(parameter.name), problems);
      } else if (parameter.in === 'query') {
        declared.add(parameter.name);
        const values = request.query.getAll(parameter.name);
        if (values.length > 1) problems.push(`${where}: given ${values.length} times`);
        this.checkValue(where, parameter, values[0], problems);
      } else if (parameter.in === 'header') {
        this.checkValue(where, parameter, request.headers[parameter.name.toLowerCase()], problems);
      }
    }
    for (const name of new Set(request.query.keys())) {
      if (!declared.has(name)) problems.push(`query ${name}: not a parameter of ${operation.operationId}`);
    }
    const contentType = mediaType(request.headers['content-type']);
    if (operation.requestBody === null) {
      if (request.body !== undefined) problems.push(`body: ${operation.operationId} takes none`);
    } else if (request.body === undefined) {
      if (operation.requestBody.required) problems.push('body: required');
    } else {
      const pointer = contentType === null ? undefined : operation.requestBody.content[contentType];
      if (pointer === undefined) problems.push(`content-type ${contentType ?? '(none)'}: not one of ${Object.keys(operation.requestBody.content).join(', ')}`);
      else this.checkSchema('body', pointer, request.body, problems);
    }
    return { operationId: operation.operationId, problems };
  }

  checkResponse(method: string, path: string, response: ContractResponse): ContractCheck {
    const matched = this.match(method, path);
    if (matched === null) return { operationId: null, problems: [`${method} ${path}: no such operation in the specification`] };
    const { operation } = matched;
    const problems: string[] = [];
    const declared = operation.responses.get(String(response.status)) ?? operation.responses.get('default');
    if (declared === undefined) return { operationId: operation.operationId, problems: [`status ${response.status}: not an answer ${operation.operationId} may give`] };
    for (const header of declared.headers) {
      const value = response.headers[header.name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${header.name}: required`);
      } else if (header.schemaPointer !== null) {
        this.checkSchema(`header ${header.name}`, header.schemaPointer, value, problems);
      }
    }
    const media = Object.keys(declared.content);
    if (media.length === 0) {
      if (response.body !== undefined) problems.push(`body: status ${response.status} of ${operation.operationId} has none`);
    } else if (response.body !== undefined) {
      const contentType = mediaType(response.headers['content-type']);
      const pointer = contentType === null ? undefined : declared.content[contentType];
      if (pointer === undefined) problems.push(`content-type ${contentType ?? '(none)'}: not one of ${media.join(', ')}`);
      else this.checkSchema('body', pointer, response.body, problems);
    }
    return { operationId: operation.operationId, problems };
  }

  private match(method: string, path: string): { operation: Operation; pathValues: Map<string, string> } | null {
    const candidates = this.operations.get(method.toLowerCase()) ?? [];
    const segments = path.split('?')[0]!.split('/');
    let best: { operation: Operation; pathValues: Map<string, string> } | null = null;
    for (const operation of candidates) {
      if (operation.segments.length !== segments.length) continue;
      const values = new Map<string, string>();
      const fits = operation.segments.every((template, i) => {
        const segment = segments[i]!;
        const name = /^\{(.+)\}$/.exec(template)?.[1];
        if (name === undefined) return template === segment;
        if (segment === '') return false;
        values.set(name, safeDecode(segment));
        return true;
      });
      // OpenAPI 3.0 §4.7.8: concrete paths match before templated ones.
      if (fits && (best === null || operation.literalSegments > best.operation.literalSegments)) best = { operation, pathValues: values };
    }
    return best;
  }

  private checkValue(where: string, parameter: Parameter, raw: string | undefined, problems: string[]): void {
    if (raw === undefined) {
      if (parameter.required) problems.push(`${where}: required`);
      return;
    }
    if (parameter.schemaPointer !== null) this.checkSchema(where, parameter.schemaPointer, coerce(raw, this.typeOf(parameter.schema)), problems);
  }

  private typeOf(schema: Json | null): unknown {
    let node: unknown = schema;
    for (let i = 0; i < 10 && isObject(node) && typeof node.$ref === 'string'; i++) node = pointerGet(this.document, node.$ref.slice(1));
    return isObject(node) ? node.type : undefined;
  }

  private checkSchema(where: string, pointer: string, value: unknown, problems: string[]): void {
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `${SPEC_ID}#${pointer.split('/').map(encodeURIComponent).join('/')}` });
      this.validators.set(pointer, validate);
    }
    if (validate(value)) return;
    for (const error of validate.errors ?? []) {
      const allowed = error.keyword === 'enum' ? ` (${(error.params as { allowedValues?: unknown[] }).allowedValues?.join(', ')})` : '';
      problems.push(`${where}${error.instancePath}: ${error.message ?? error.keyword}${allowed}`);
    }
  }
}

/** A copy of the OpenAPI document whose schemas Ajv reads as the guidelines mean them (see above). */
export function readAsJsonSchema(document: Json): Json {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') {
        if (value) out[key] = node[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
        continue;
      }
      if (key === 'oneOf' && Array.isArray(value)) {
        out.anyOf = value.map((alternative) => (isObject(alternative) && Object.keys(alternative).length === 0 ? { type: 'object', maxProperties: 0 } : visit(alternative)));
        continue;
      }
      out[key] = visit(value);
    }
    // `exclusiveMinimum: true` moved the bound; the plain one must go.
    if (node.exclusiveMinimum === true) delete out.minimum;
    if (node.exclusiveMaximum === true) delete out.maximum;
    return out;
  };
  return visit(document) as Json;
}

function indexOperations(document: Json): Map<string, Operation[]> {
  const byMethod = new Map<string, Operation[]>();
  const paths = (document.paths ?? {}) as Record<string, Json>;
  for (const [template, item] of Object.entries(paths)) {
    const itemPointer = `/paths/${escapePointer(template)}`;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const raw = item[method];
      if (!isObject(raw)) continue;
      const opPointer = `${itemPointer}/${method}`;
      const parameters = new Map<string, Parameter>();
      const collect = (list: unknown[], base: string) =>
        list.forEach((entry, i) => {
          const { value, pointer } = resolve(document, entry, `${base}/${i}`);
          if (!isObject(value) || typeof value.name !== 'string') return;
          parameters.set(`${value.in}:${value.name.toLowerCase()}`, {
            name: value.name,
            in: value.in as Parameter['in'],
            required: value.required === true,
            schemaPointer: isObject(value.schema) ? `${pointer}/schema` : null,
            schema: isObject(value.schema) ? value.schema : null,
          });
        });
      collect(shared, `${itemPointer}/parameters`);
      collect(Array.isArray(raw.parameters) ? raw.parameters : [], `${opPointer}/parameters`);

      let requestBody: Operation['requestBody'] = null;
      if (raw.requestBody !== undefined) {
        const { value, pointer } = resolve(document, raw.requestBody, `${opPointer}/requestBody`);
        if (isObject(value)) requestBody = { required: value.required === true, content: contentPointers(value.content, `${pointer}/content`) };
      }

      const responses: Operation['responses'] = new Map();
      for (const [status, entry] of Object.entries((raw.responses ?? {}) as Json)) {
        const { value, pointer } = resolve(document, entry, `${opPointer}/responses/${escapePointer(status)}`);
        if (!isObject(value)) continue;
        const headers = Object.entries((value.headers ?? {}) as Json).map(([name, header]) => {
          const resolved = resolve(document, header, `${pointer}/headers/${escapePointer(name)}`);
          const h = isObject(resolved.value) ? resolved.value : {};
          return { name, required: h.required === true, schemaPointer: isObject(h.schema) ? `${resolved.pointer}/schema` : null };
        });
        responses.set(status, { headers, content: contentPointers(value.content, `${pointer}/content`) });
      }

      const segments = template.split('/');
      const operation: Operation = {
        operationId: typeof raw.operationId === 'string' ? raw.operationId : `${method} ${template}`,
        template,
        segments,
        literalSegments: segments.filter((s) => !s.startsWith('{')).length,
        parameters: [...parameters.values()],
        requestBody,
        responses,
      };
      const list = byMethod.get(method) ?? [];
      list.push(operation);
      byMethod.set(method, list);
    }
  }
  return byMethod;
}

/** Media type → pointer of its schema. */
function contentPointers(content: unknown, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(content)) return out;
  for (const [media, entry] of Object.entries(content)) {
    if (isObject(entry) && isObject(entry.schema)) out[media] = `${base}/${escapePointer(media)}/schema`;
  }
  return out;
}

/** Follows local `$ref`s; returns the object and the JSON pointer it lives at. */
function resolve(document: Json, node: unknown, pointer: string): { value: unknown; pointer: string } {
  let value = node;
  let at = pointer;
  for (let i = 0; i < 10 && isObject(value) && typeof value.$ref === 'string' && value.$ref.startsWith('#/'); i++) {
    at = value.$ref.slice(1);
    value = pointerGet(document, at);
  }
  return { value, pointer: at };
}

function pointerGet(document: Json, pointer: string): unknown {
  let node: unknown = document;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[key] : undefined;
  }
  return node;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function coerce(raw: string, type: unknown): unknown {
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function mediaType(header: string | undefined): string | null {
  const media = header?.split(';')[0]?.trim().toLowerCase();
  return media === undefined || media === '' ? null : media;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checking real answers against the OpenAPI document: `documented(doc)` gives a function
 * that takes an inject() response and the operation it came from ("POST /api/slots/{slotId}/hold")
 * and fails unless the document lists that status for the operation and the body is valid
 * against the schema it gives for the response's media type (JSON Schema 2020-12, as in
 * OpenAPI 3.1, checked by ajv with formats).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export interface MediaObject {
  schema?: object;
}
export interface ResponseObject {
  description: string;
  content?: Record<string, MediaObject>;
  headers?: Record<string, unknown>;
}
export interface Operation {
  tags?: string[];
  summary?: string;
  deprecated?: boolean;
  security?: Record<string, string[]>[];
  responses: Record<string, ResponseObject>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  [extension: `x-${string}`]: unknown;
}

/** A fastify route path as the document writes it: `:id` as `{id}`, a wildcard as `{path}`. */
export function documentPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}').replace('*', '{path}');
}

/** The document's response for an operation ("GET /api/slots") and status, or undefined. */
export function responseOf(doc: OpenApiDocument, operation: string, status: number): ResponseObject | undefined {
  const [method, path] = operation.split(' ') as [string, string];
  return doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
}

export function documented(doc: OpenApiDocument) {
  // strict: false, because OpenAPI adds keywords of its own (example, xml...) to JSON Schema
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // a CommonJS module whose default export is the plugin, which NodeNext types as its namespace
  (formats as unknown as { default: (ajv: Ajv2020) => void }).default(ajv);
  const compiled = new Map<object, ValidateFunction>();

  return function expectDocumented(res: LightMyRequestResponse, operation: string): void {
    const where = `${operation} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
    const response = responseOf(doc, operation, res.statusCode);
    expect(response, `${where}: the document lists no such response`).toBeDefined();
    if (!response!.content) {
      expect(res.body, `${where}: documented without a body`).toBe('');
      return;
    }
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    const media = response!.content[type] ?? response!.content['*/*'];
    expect(media, `${where}: the document gives no ${type} body (only ${Object.keys(response!.content).join(', ')})`).toBeDefined();
    const schema = media!.schema!;
    const validate = compiled.get(schema) ?? ajv.compile(schema);
    compiled.set(schema, validate);
    const body: unknown = type === 'application/json' ? res.json() : res.body;
    const valid = validate(body);
    expect(valid ? [] : validate.errors, `${where}: the body does not match the document`).toEqual([]);
  };
}

/**
 * The OpenAPI document and the error catalogue: the document is valid OpenAPI 3.1, lists
 * every route the app serves (with its method) and nothing else, describes every answer,
 * and carries the catalogue; docs/errors.md is what the generator makes now; every
 * catalogued code is used and every code used is catalogued. Swagger UI at /api/docs works
 * in Chromium under its own content security policy, from local files only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODE_NAMES, ERROR_CODES, errorsMarkdown, type ErrorCode } from '../../src/http/error-codes.js';
import { projectRoot } from '../../src/paths.js';
import { useTestApp } from '../helpers/app.js';
import { browserMissing, launchBrowser } from '../helpers/browser.js';
import { documentPath, type OpenApiDocument } from '../helpers/openapi.js';
import { watchCsp } from '../web/browser-kit.js';

const t = useTestApp();
let doc: OpenApiDocument;

// Bull Board registers these itself, hidden from the document: its page's client routes and
// its JSON API are its internals, change with its version and serve only its own page. Its
// front door, GET /admin/queues, is documented.
const undocumented = (r: { url: string }) => r.url.startsWith('/admin/queues/');

beforeAll(async () => {
  doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
});

function operations(): { method: string; path: string; op: OpenApiDocument['paths'][string][string] }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('lists every route the app registers, with its method, and no other', () => {
    const routes = t.app.routeTable.filter((r) => !undocumented(r));
    expect(routes.length).toBeGreaterThan(50);
    const missing = routes.filter((r) => !doc.paths[documentPath(r.url)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    const served = new Set(routes.map((r) => `${r.method} ${documentPath(r.url)}`));
    // fastify answers HEAD for every GET; the static file routes register it themselves
    const extra = operations().filter((o) => o.method !== 'HEAD' && !served.has(`${o.method} ${o.path}`)).map((o) => `${o.method} ${o.path}`);
    expect(extra).toEqual([]);
  });

  it('describes every operation: a tag and summary, a success answer, and only catalogued codes at their own status', () => {
    const tags = new Set((doc as unknown as { tags: { name: string }[] }).tags.map((x) => x.name));
    for (const { method, path, op } of operations()) {
      const where = `${method} ${path}`;
      expect(op.tags?.every((x) => tags.has(x)) && op.summary, `${where}: tags and summary`).toBeTruthy();
      expect(Object.keys(op.responses).some((s) => /^[23]/.test(s)), `${where}: a 2xx or 3xx answer`).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        const schema = response.content?.['application/json']?.schema as { properties?: { error?: { properties?: { code?: { enum?: ErrorCode[] } } } } } | undefined;
        for (const code of schema?.properties?.error?.properties?.code?.enum ?? []) {
          expect(ERROR_CODES[code]?.status, `${where} ${status}: ${code}`).toBe(Number(status));
        }
        if (Number(status) >= 400 && schema) expect(schema.properties?.error, `${where} ${status}: the error body`).toBeDefined();
      }
    }
  });

  it('documents every answer JSON route of ours as strict objects (unknown fields are not allowed)', () => {
    const loose: string[] = [];
    const walk = (schema: unknown, where: string) => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) loose.push(where);
      for (const [key, value] of Object.entries(s)) if (key !== 'details') walk(value, `${where}/${key}`);
    };
    for (const { method, path, op } of operations()) {
      // the document itself is the one body that is not ours to close
      if (path === '/api/openapi.json' || path === '/api/docs/json') continue;
      for (const [status, response] of Object.entries(op.responses)) walk(response.content?.['application/json']?.schema, `${method} ${path} ${status}`);
    }
    expect(loose).toEqual([]);
  });

  it('names the sign-in schemes, marks the old watch routes deprecated and carries the catalogue', () => {
    expect(Object.keys(doc.components.securitySchemes)).toEqual(expect.arrayContaining(['bearer', 'learnerCookie', 'csrfToken', 'adminCookie']));
    expect(doc.paths['/api/me/watches']!.post!.security).toEqual([{ bearer: [] }, { learnerCookie: [], csrfToken: [] }]);
    expect(doc.paths['/api/me/watches']!.get!.security).toEqual([{ bearer: [] }, { learnerCookie: [] }]);
    expect(doc.paths['/admin/queues']!.get!.security).toEqual([{ adminCookie: [] }]);
    const deprecated = operations().filter((o) => o.op.deprecated).map((o) => `${o.method} ${o.path}`);
    expect(deprecated.sort()).toEqual(
      ['GET /api/me/preferences', 'POST /api/me/preferences', 'PUT /api/me/preferences/{id}', 'DELETE /api/me/preferences/{id}', 'GET /api/web/watches'].sort(),
    );
    expect(doc['x-error-codes']).toEqual(ERROR_CODES);
    expect((doc.components.schemas.ErrorCode as { enum: string[] }).enum).toEqual(ERROR_CODE_NAMES);
  });
});

describe('the error catalogue', () => {
  const source = (f: string) => readFileSync(f, 'utf8');
  const text = sourceFiles(join(projectRoot, 'src')).map(source).join('\n');
  // a code is used when something throws or answers it, or app.ts maps fastify's own refusals to it
  const thrown = [...text.matchAll(/(?:HttpError|errorBody|BookingRefusal|SlotBatchError)\(\s*'([A-Z_]+)'/g)].map((m) => m[1]!);
  const mapped = [...source(join(projectRoot, 'src', 'http', 'app.ts')).matchAll(/'([A-Z][A-Z_]+)'/g)].map((m) => m[1]!);

  it('is what docs/errors.md says (npm run cli -- docs:errors regenerates it)', () => {
    expect(readFileSync(join(projectRoot, 'docs', 'errors.md'), 'utf8')).toBe(errorsMarkdown());
  });

  it('lists only codes that something throws, answers or maps', () => {
    const used = new Set([...thrown, ...mapped]);
    expect(ERROR_CODE_NAMES.filter((code) => !used.has(code))).toEqual([]);
  });

  it('lists every code thrown, answered or mapped', () => {
    expect(thrown.length).toBeGreaterThan(30);
    expect(thrown.filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });
});

describe('the docs pages', () => {
  it('serve Swagger UI from local files under a policy of their own; the JSON API keeps the baseline', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    const bundle = await t.app.inject({ method: 'GET', url: '/api/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    const json = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(json.headers['content-type']).toContain('application/json');
    expect(json.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect((await t.app.inject({ method: 'GET', url: '/api/me' })).headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  describe.skipIf(browserMissing)(`in Chromium${browserMissing ? ` (skipped: ${browserMissing})` : ''}`, () => {
    let browser: Browser | undefined;
    let base = '';
    beforeAll(async () => {
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('render every operation and try one out, with no refusal by the policy and nothing fetched from elsewhere', async () => {
      const context = await browser!.newContext();
      const csp = watchCsp(context);
      const elsewhere: string[] = [];
      context.on('request', (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith('data:')) elsewhere.push(r.url());
      });
      const page = await context.newPage();
      await page.goto(`${base}/api/docs`);
      await page.waitForSelector('.opblock');
      expect(await page.locator('.opblock').count()).toBe(operations().length);
      const health = page.locator('#operations-Operations-get_healthz');
      await health.locator('.opblock-summary').click();
      await health.getByRole('button', { name: 'Try it out' }).click();
      await health.getByRole('button', { name: 'Execute' }).click();
      await expect.poll(() => health.locator('.live-responses-table').innerText()).toContain('"status": "ok"');
      expect(csp).toEqual([]);
      expect(elsewhere).toEqual([]);
      await context.close();
    });
  });
});

/**
 * The baseline every response carries (nosniff, no framing, a policy), no-store on what is
 * answered to a credential and on JSON, a policy on every HTML page, and HSTS only when the
 * site is served over https: walked over every route the app registers, signed out and
 * signed in, and checked by kind.
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../src/http/headers.js';
import { useTestApp } from '../helpers/app.js';

const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: 1_000_000, LOGIN_LIMIT_PER_MINUTE_IP: 1_000_000 });
const secure = useTestApp({ PUBLIC_BASE_URL: 'https://slotwatch.example' });

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ZERO = '00000000-0000-4000-8000-000000000000';

function expectBaseline(res: LightMyRequestResponse, what: string): void {
  expect(res.headers['x-content-type-options'], what).toBe('nosniff');
  expect(res.headers['x-frame-options'], what).toBe('DENY');
  expect(String(res.headers['content-security-policy']), what).toContain("frame-ancestors 'none'");
  expect(res.headers['strict-transport-security'], what).toBeUndefined();
  if (String(res.headers['content-type']).startsWith('text/html')) {
    // a real policy, not the non-page one: it says where scripts may come from, or that none may
    expect(String(res.headers['content-security-policy']), what).toMatch(/script-src|default-src 'none'/);
  }
}

describe('security headers', () => {
  it('every route, signed out and signed in, answers with nosniff, no framing and a policy; no-store to a bearer', async () => {
    const routes = t.app.routeTable;
    expect(routes.length).toBeGreaterThan(40);
    for (const who of ['nobody', 'client'] as const) {
      // a fresh session per pass: the walk signs out on its way
      const token = who === 'client' ? (await t.signedIn('CLIENT')).token : undefined;
      for (const r of routes) {
        const url = r.url.replace(/:(\w+)/g, ZERO).replace('*', 'style.css');
        const method = r.method as Method;
        const res = await t.app.inject({ method, url, headers: token ? t.auth(token) : {}, ...(method === 'GET' ? {} : { payload: {} }) });
        const what = `${r.method} ${r.url} as ${who}: ${res.statusCode}`;
        expect(res.statusCode, what).toBeLessThan(500);
        expectBaseline(res, what);
        const type = String(res.headers['content-type']);
        // static files keep their own caching (they are the same for everyone); anything else answered to a credential, and all JSON, is never stored
        if ((token && /json|html|text\/plain/.test(type)) || type.includes('json')) expect(res.headers['cache-control'], what).toBe('no-store');
      }
    }
  });

  it('one of each kind: public and signed-in JSON, pages, a static asset, 404, 400, 401', async () => {
    const { token } = await t.signedIn('CLIENT');
    const admin = await t.signedIn('ADMIN');
    const kinds: [string, InjectOptions, number][] = [
      ['public JSON', { method: 'GET', url: '/api/slots?lat=51.5&lon=-0.1' }, 200],
      ['signed-in JSON', { method: 'GET', url: '/api/me', headers: t.auth(token) }, 200],
      ['learner page', { method: 'GET', url: '/signin' }, 200],
      ['unsubscribe page', { method: 'GET', url: '/unsubscribe/no-such-token' }, 404],
      ['admin sign-in', { method: 'GET', url: '/admin/login' }, 200],
      ['queue board', { method: 'GET', url: '/admin/queues', headers: { accept: 'text/html' }, cookies: { sw_admin: admin.token } }, 200],
      ['Swagger UI', { method: 'GET', url: '/api/docs/' }, 200],
      ['static asset', { method: 'GET', url: '/assets/style.css' }, 200],
      ['no route', { method: 'GET', url: '/no/such/thing' }, 404],
      ['bad input', { method: 'GET', url: '/api/slots?lat=north' }, 400],
      ['not signed in', { method: 'GET', url: '/api/me' }, 401],
    ];
    const seen: Record<string, LightMyRequestResponse> = {};
    for (const [kind, request, status] of kinds) {
      const res = await t.app.inject(request);
      expect(res.statusCode, kind).toBe(status);
      expectBaseline(res, kind);
      seen[kind] = res;
    }
    expect(seen['public JSON']!.headers['cache-control']).toBe('no-store');
    expect(seen['signed-in JSON']!.headers['cache-control']).toBe('no-store');
    expect(seen['not signed in']!.headers['cache-control']).toBe('no-store');
    expect(seen['learner page']!.headers['content-security-policy']).toContain("script-src 'self'");
    expect(seen['unsubscribe page']!.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(seen['admin sign-in']!.headers['content-security-policy']).toContain("default-src 'none'");
    expect(seen['queue board']!.headers['content-security-policy']).toContain("script-src 'self'");
    expect(seen['Swagger UI']!.headers['content-security-policy']).toContain("script-src 'self'");
    // the asset keeps its own caching (fastify-static's)
    expect(seen['static asset']!.headers['cache-control']).not.toBe('no-store');
    expect(seen['no route']!.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('HSTS on every kind of answer when PUBLIC_BASE_URL is https, and none over http', async () => {
    for (const url of ['/api/slots?lat=51.5&lon=-0.1', '/signin', '/unsubscribe/x', '/admin/login', '/api/docs/', '/assets/style.css', '/no/such/thing', '/api/me']) {
      const res = await secure.app.inject({ method: 'GET', url });
      expect(res.headers['strict-transport-security'], url).toMatch(/^max-age=31536000; includeSubDomains/);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      const plain = await t.app.inject({ method: 'GET', url });
      expect(plain.headers['strict-transport-security'], url).toBeUndefined();
    }
  });
});

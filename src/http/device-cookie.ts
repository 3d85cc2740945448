/**
 * The sign-in device cookie `sw_device` (OWASP's "device cookies"): a browser that has
 * signed in to an account gets a random device id signed together with that account's
 * address, so that it can be told apart from a stranger's client when it signs in again.
 * Attempts carrying a valid one for the address they name are counted per device only
 * (login-limits.ts): failures from elsewhere never slow or refuse them.
 *
 * The value is `<device id>.<HMAC-SHA256 of (email digest, device id)>` under a key derived
 * from SECRET_KEY, so it holds nothing personal and cannot be forged or moved to another
 * address. One cookie a browser: signing in to a second account replaces the first's.
 * HttpOnly, SameSite=Strict (every sign-in form posts from our own pages), Secure on https,
 * path / (the three sign-in forms live under /api/auth, /api/web and /admin).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { derivedKeys } from './secret-key.js';
import { secureCookies } from './session.js';

export const DEVICE_COOKIE = 'sw_device';
const DEVICE_DAYS = 180;
const SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

function signature(config: Config, emailDigest: string, device: string): Buffer {
  return createHmac('sha256', derivedKeys(config).deviceCookie).update(`${emailDigest}.${device}`).digest();
}

/** The device id of the request's cookie when it was issued for the address whose digest is `emailDigest`; else undefined. */
export function deviceFor(request: FastifyRequest, config: Config, emailDigest: string): string | undefined {
  const match = SHAPE.exec(request.cookies?.[DEVICE_COOKIE] ?? '');
  if (!match) return undefined;
  const [, device, sent] = match as unknown as [string, string, string];
  const expected = signature(config, emailDigest, device);
  const given = Buffer.from(sent, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? device : undefined;
}

/** After a successful sign-in: keeps the device id the browser already has for this address, or gives it a new one. */
export function setDeviceCookie(reply: FastifyReply, config: Config, emailDigest: string, device: string | undefined): void {
  const id = device ?? randomBytes(16).toString('base64url');
  const value = `${id}.${signature(config, emailDigest, id).toString('base64url')}`;
  reply.setCookie(DEVICE_COOKIE, value, {
    maxAge: DEVICE_DAYS * 86_400,
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: secureCookies(config.PUBLIC_BASE_URL),
  });
}

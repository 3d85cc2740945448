/**
 * What a hook can answer, recorded where the hook is made (auth.ts, rate-limit.ts,
 * schemas.ts), so the OpenAPI document lists it on every route that uses the hook
 * (route-docs.ts) without each route repeating it.
 */
import type { ErrorCode } from './error-codes.js';

export interface HookDoc {
  /** What the hook can refuse with. */
  codes: ErrorCode[];
  /** The hook signs the caller in (app.authenticate, app.requireRole): 401, CSRF, and the security schemes. */
  signedIn?: boolean;
}

const hookDocs = new WeakMap<object, HookDoc>();

/** Records what `hook` can answer; returns the hook. */
export function documentHook<T extends object>(hook: T, doc: HookDoc): T {
  hookDocs.set(hook, doc);
  return hook;
}

/** What `hook` can answer, when it was documented. */
export function hookDoc(hook: unknown): HookDoc | undefined {
  return typeof hook === 'function' ? hookDocs.get(hook) : undefined;
}

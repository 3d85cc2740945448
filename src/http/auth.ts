/** Bearer-token (or learner-page session cookie) authentication and role checks, as hooks routes opt into. */
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AuthUser, Role } from '../accounts/roles.js';
import { userForToken } from '../accounts/sessions.js';
import { HttpError } from './errors.js';
import { documentHook } from './hook-docs.js';
import { bearerToken, CSRF_HEADER, csrfHeader, csrfMatches, isSafeMethod, sessionCookieToken } from './session.js';

/** The signed-in user; for handlers behind authenticate/requireRole, where it is always set. */
export function userOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new HttpError('UNAUTHENTICATED', 'sign in first');
  return request.user;
}

/** Adds app.authenticate, app.requireRole(...) and request.user. */
export function registerAuth(app: FastifyInstance): void {
  app.decorateRequest('user', null);

  const authenticate: onRequestHookHandler = async function (request) {
    const token = bearerToken(request);
    // the learner pages' session cookie, only when no bearer header is sent (bearer clients are unaffected)
    const cookieToken = token ? undefined : sessionCookieToken(request);
    if (!token && !cookieToken) throw new HttpError('UNAUTHENTICATED', 'send Authorization: Bearer <token> from POST /api/auth/login');
    const user = await userForToken(app.deps.pool, (token ?? cookieToken)!);
    if (!user) throw new HttpError('UNAUTHENTICATED', 'the token is unknown, expired or revoked; sign in again');
    // a browser sends the cookie on cross-site requests too: state changes need the page's CSRF token
    if (cookieToken && !isSafeMethod(request.method) && !csrfMatches(cookieToken, csrfHeader(request))) {
      throw new HttpError('CSRF_INVALID', `send the page's CSRF token in ${CSRF_HEADER}; reload the page and try again`);
    }
    request.user = user;
  };
  app.decorate('authenticate', documentHook(authenticate, { codes: [], signedIn: true }));

  app.decorate('requireRole', (...roles: Role[]): onRequestHookHandler => {
    const hook: onRequestHookHandler = async function (request, reply) {
      await authenticate.call(this, request, reply, () => {});
      if (!roles.includes(request.user!.role)) {
        throw new HttpError('FORBIDDEN', `this needs the role ${roles.join(' or ')}`);
      }
    };
    return documentHook(hook, { codes: ['FORBIDDEN'], signedIn: true });
  });
}

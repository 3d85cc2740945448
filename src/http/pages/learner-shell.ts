/** How a learner page is sent: the shell, the nav for who is signed in, never cached. */
import type { FastifyReply } from 'fastify';
import { page } from '../html.js';
import type { PageSession } from '../session.js';
import { learnerNav, type NavEntry } from './bodies.js';

export interface LearnerShell {
  title: string;
  body: string;
  script?: string;
  /** Which nav entry is the current page. */
  current?: NavEntry;
  /** Keeps the page out of search engines (pages reached by a secret link). */
  noindex?: boolean;
}

/** Sends a learner page with `status`. */
export function send(reply: FastifyReply, status: number, shell: LearnerShell, session: PageSession | null) {
  const csrf = session?.csrf ?? null;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    // pages carry the CSRF token and personal details: never stored by a shared cache
    .header('cache-control', 'no-store')
    .send(page({ ...shell, csrf, nav: learnerNav(session?.user ?? null, csrf, shell.current), liveRegions: true }));
}

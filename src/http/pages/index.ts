/** The learner web: its pages (with helmet, in their own scope) and the JSON they use. */
import type { FastifyPluginAsync } from 'fastify';
import { webApiRoutes } from '../api/web-session.js';
import { webPageRoutes } from './learner.js';

/** Registered once in src/http/app.ts's routes list. */
export const webRoutes: FastifyPluginAsync = async (app) => {
  await app.register(webApiRoutes);
  await app.register(webPageRoutes);
};

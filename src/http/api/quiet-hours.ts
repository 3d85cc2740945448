/** GET/PUT /api/me/quiet-hours: when the signed-in user's alerts should wait (Europe/London). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getQuietHours, setQuietHours } from '../../accounts/users.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { strictObject } from '../schemas.js';

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour, Europe/London' });
const Body = strictObject({ quietHours: Type.Union([strictObject({ start: HHMM, end: HHMM }), Type.Null()]) });

export const quietHoursRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;

  app.get('/api/me/quiet-hours', { onRequest: app.authenticate }, async (request) => ({
    quietHours: await getQuietHours(pool, userOf(request).id),
  }));

  app.put('/api/me/quiet-hours', { onRequest: app.authenticate, schema: { body: Body } }, async (request) => {
    const { quietHours } = request.body;
    if (quietHours && quietHours.start === quietHours.end) {
      throw new HttpError('VALIDATION_ERROR', 'body/quietHours start and end must differ (null turns quiet hours off)');
    }
    const user = userOf(request);
    await setQuietHours(pool, user.id, quietHours);
    return { quietHours: await getQuietHours(pool, user.id) };
  });
};

/** GET/PUT /api/me/quiet-hours: when the signed-in user's alerts should wait (Europe/London). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getQuietHours, setQuietHours } from '../../accounts/users.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { strictObject } from '../schemas.js';

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour, Europe/London' });
const Body = strictObject({ quietHours: Type.Union([strictObject({ start: HHMM, end: HHMM }), Type.Null()]) });
// the body is also the answer: null when the user has none of their own
const QuietHoursReply = Body;
const tags = tag('Quiet hours');
const getSchema = { tags, summary: 'Your quiet hours, or null', response: replies({ 200: QuietHoursReply }) };
const putSchema = {
  tags,
  summary: 'Set your quiet hours (null turns them off)',
  description: 'An end before the start runs past midnight, e.g. 22:00 to 07:00.',
  body: Body,
  response: replies({ 200: QuietHoursReply }, 'VALIDATION_ERROR'),
};

export const quietHoursRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;

  app.get('/api/me/quiet-hours', { onRequest: app.authenticate, schema: getSchema }, async (request) => ({
    quietHours: await getQuietHours(pool, userOf(request).id),
  }));

  app.put('/api/me/quiet-hours', { onRequest: app.authenticate, schema: putSchema }, async (request) => {
    const { quietHours } = request.body;
    if (quietHours && quietHours.start === quietHours.end) {
      throw new HttpError('VALIDATION_ERROR', 'body/quietHours start and end must differ (null turns quiet hours off)');
    }
    const user = userOf(request);
    await setQuietHours(pool, user.id, quietHours);
    return { quietHours: await getQuietHours(pool, user.id) };
  });
};

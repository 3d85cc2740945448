/** The caller's own appointments: list, confirm, cancel. Anyone else's answers 404. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listAppointments } from '../../booking/appointments.js';
import { cancelAppointment, confirmAppointment } from '../../booking/transitions.js';
import { userOf } from '../auth.js';
import { mapRefusals } from '../refusals.js';
import { IdParams, noBody } from '../schemas.js';

export const appointmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  const by = (request: Parameters<typeof userOf>[0]) => ({ userId: userOf(request).id, actor: 'user' as const, ip: request.ip });

  app.get('/api/appointments', { onRequest: app.authenticate }, async (request) => ({
    appointments: await listAppointments(pool, userOf(request).id),
  }));

  app.post('/api/appointments/:id/confirm', { onRequest: app.authenticate, preValidation: noBody, schema: { params: IdParams } }, async (request) => ({
    appointment: await mapRefusals(() => confirmAppointment(pool, request.params.id, by(request))),
  }));

  app.post('/api/appointments/:id/cancel', { onRequest: app.authenticate, preValidation: noBody, schema: { params: IdParams } }, async (request) => ({
    appointment: await mapRefusals(() => cancelAppointment(pool, request.params.id, by(request))),
  }));
};

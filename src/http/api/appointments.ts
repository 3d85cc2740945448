/** The caller's own appointments: list, confirm, cancel. Anyone else's answers 404. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listAppointments } from '../../booking/appointments.js';
import { cancelAppointment, confirmAppointment } from '../../booking/transitions.js';
import { userOf } from '../auth.js';
import { mapRefusals } from '../refusals.js';
import { Appointment, AppointmentReply, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { DateTime, IdParams, noBody, strictObject, Uuid } from '../schemas.js';

/** An appointment with its slot and centre (booking/appointments.ts AppointmentWithSlot). */
export const AppointmentWithSlot = Type.Object(
  {
    ...Appointment.properties,
    slot: strictObject({
      startTime: DateTime,
      endTime: DateTime,
      testType: Type.String(),
      center: strictObject({ id: Uuid, name: Type.String(), postcode: Type.String() }),
    }),
  },
  { additionalProperties: false },
);

const tags = tag('Appointments');

export const appointmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  const by = (request: Parameters<typeof userOf>[0]) => ({ userId: userOf(request).id, actor: 'user' as const, ip: request.ip });

  const listSchema = { tags, summary: 'Your appointments, newest first (at most 100)', response: replies({ 200: strictObject({ appointments: Type.Array(AppointmentWithSlot) }) }) };
  app.get('/api/appointments', { onRequest: app.authenticate, schema: listSchema }, async (request) => ({
    appointments: await listAppointments(pool, userOf(request).id),
  }));

  const confirmSchema = {
    tags,
    summary: 'Confirm a hold: the slot is booked',
    description: 'Confirming a confirmed appointment answers it again.',
    params: IdParams,
    response: replies({ 200: AppointmentReply }, 'APPOINTMENT_NOT_FOUND', 'HOLD_EXPIRED', 'APPOINTMENT_NOT_ACTIVE'),
  };
  app.post('/api/appointments/:id/confirm', { onRequest: app.authenticate, preValidation: noBody, schema: confirmSchema }, async (request) => ({
    appointment: await mapRefusals(() => confirmAppointment(pool, request.params.id, by(request))),
  }));

  const cancelSchema = {
    tags,
    summary: 'Cancel a hold or a booking: the slot is free again',
    params: IdParams,
    response: replies({ 200: AppointmentReply }, 'APPOINTMENT_NOT_FOUND', 'APPOINTMENT_NOT_ACTIVE'),
  };
  app.post('/api/appointments/:id/cancel', { onRequest: app.authenticate, preValidation: noBody, schema: cancelSchema }, async (request) => ({
    appointment: await mapRefusals(() => cancelAppointment(pool, request.params.id, by(request))),
  }));
};

/** Operator routes (role OPERATOR or ADMIN): centres, examiners, slots in bulk, no-shows. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { recordAudit } from '../../audit/audit.js';
import { markNoShow } from '../../booking/transitions.js';
import { withTransaction } from '../../db/transaction.js';
import { createCenter } from '../../slots/centers.js';
import { createSlots } from '../../slots/time-slots.js';
import { createSpecialist } from '../../slots/specialists.js';
import { userOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { mapRefusals, parseDate } from '../refusals.js';
import { AppointmentReply, Nullable, replies } from '../replies.js';
import { tag } from '../route-docs.js';
import { DateTime, IdParams, noBody, strictObject, TestType, Uuid } from '../schemas.js';

export const MAX_SLOTS_PER_REQUEST = 1000;
const MAX_SLOT_HOURS = 12;

const Latitude = Type.Number({ minimum: -90, maximum: 90 });
const Longitude = Type.Number({ minimum: -180, maximum: 180 });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const CenterBody = strictObject({
  name: Text(200),
  postcode: Type.String({ minLength: 2, maxLength: 10, pattern: '^[A-Za-z0-9 ]+$' }),
  latitude: Latitude,
  longitude: Longitude,
});
const SpecialistBody = strictObject({ fullName: Text(200), serviceType: Text(100), centerId: Uuid });
const SlotsBody = strictObject({
  slots: Type.Array(strictObject({ specialistId: Uuid, testType: TestType, startTime: DateTime, endTime: DateTime }), {
    minItems: 1,
    maxItems: MAX_SLOTS_PER_REQUEST,
  }),
});

const Center = strictObject({ id: Uuid, name: Type.String(), postcode: Type.String(), latitude: Latitude, longitude: Longitude, externalId: Nullable(Type.String()) });
const Specialist = strictObject({ id: Uuid, fullName: Type.String(), serviceType: Type.String(), centerId: Uuid });
const TimeSlot = strictObject({
  id: Uuid,
  specialistId: Nullable(Uuid),
  centerId: Uuid,
  testType: TestType,
  startTime: DateTime,
  endTime: DateTime,
  status: Type.Enum(['AVAILABLE', 'HOLD', 'BOOKED']),
});

const tags = tag('Operator');
const centerSchema = { tags, summary: 'Add a test centre (audited)', body: CenterBody, response: replies({ 201: strictObject({ center: Center }) }) };
const specialistSchema = {
  tags,
  summary: 'Add an examiner at a centre (audited)',
  body: SpecialistBody,
  response: replies({ 201: strictObject({ specialist: Specialist }) }, 'UNKNOWN_CENTER'),
};
const slotsSchema = {
  tags,
  summary: `Add up to ${MAX_SLOTS_PER_REQUEST} slots at once, all or none (audited)`,
  description: `Each slot is at its examiner's centre, ends after it starts and lasts at most ${MAX_SLOT_HOURS} hours; an examiner cannot be in two slots at once.`,
  body: SlotsBody,
  response: replies({ 201: strictObject({ slots: Type.Array(TimeSlot) }) }, 'VALIDATION_ERROR', 'UNKNOWN_SPECIALIST', 'SLOT_OVERLAP'),
};
const noShowSchema = {
  tags,
  summary: 'Record that a confirmed appointment was missed; the slot is free again',
  params: IdParams,
  response: replies({ 200: AppointmentReply }, 'APPOINTMENT_NOT_FOUND', 'APPOINTMENT_NOT_ACTIVE'),
};

export const operatorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  const staff = app.requireRole('OPERATOR', 'ADMIN');

  app.post('/api/operator/centers', { onRequest: staff, schema: centerSchema }, async (request, reply) => {
    const user = userOf(request);
    const center = await withTransaction(pool, async (tx) => {
      const c = await createCenter(tx, request.body);
      await recordAudit(tx, { userId: user.id, action: 'center.create', entityType: 'test_center', entityId: c.id, ip: request.ip });
      return c;
    });
    return reply.code(201).send({ center });
  });

  app.post('/api/operator/specialists', { onRequest: staff, schema: specialistSchema }, async (request, reply) => {
    const user = userOf(request);
    const specialist = await withTransaction(pool, async (tx) => {
      const s = await createSpecialist(tx, request.body);
      if (s) await recordAudit(tx, { userId: user.id, action: 'specialist.create', entityType: 'specialist', entityId: s.id, ip: request.ip });
      return s;
    });
    if (!specialist) throw new HttpError('UNKNOWN_CENTER', 'body/centerId names no active centre');
    return reply.code(201).send({ specialist });
  });

  app.post('/api/operator/slots', { onRequest: staff, schema: slotsSchema }, async (request, reply) => {
    const user = userOf(request);
    request.body.slots.forEach((s, i) => {
      const start = parseDate(s.startTime, `body/slots/${i}/startTime`).getTime();
      const end = parseDate(s.endTime, `body/slots/${i}/endTime`).getTime();
      if (end <= start) throw new HttpError('VALIDATION_ERROR', `body/slots/${i}/endTime must be after startTime`);
      if (end - start > MAX_SLOT_HOURS * 3_600_000) throw new HttpError('VALIDATION_ERROR', `body/slots/${i} must last at most ${MAX_SLOT_HOURS} hours`);
    });
    const slots = await mapRefusals(() =>
      withTransaction(pool, async (tx) => {
        const created = await createSlots(tx, request.body.slots);
        await recordAudit(tx, { userId: user.id, action: 'slots.create', entityType: 'time_slot', details: { count: created.length }, ip: request.ip });
        return created;
      }),
    );
    return reply.code(201).send({ slots });
  });

  app.post(
    '/api/operator/appointments/:id/no-show',
    { onRequest: staff, preValidation: noBody, schema: noShowSchema },
    async (request) => {
      const user = userOf(request);
      const appointment = await mapRefusals(() =>
        markNoShow(pool, request.params.id, { userId: user.id, actor: user.role === 'ADMIN' ? 'admin' : 'operator', ip: request.ip }),
      );
      return { appointment };
    },
  );
};

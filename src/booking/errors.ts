/** Why a booking action was refused. Routes map each code to its HTTP status (all 4xx). */
export const BOOKING_REFUSALS = {
  SLOT_NOT_FOUND: 404,
  APPOINTMENT_NOT_FOUND: 404,
  SLOT_UNAVAILABLE: 409,
  ALREADY_HOLDING: 409,
  ALREADY_BOOKED: 409,
  REHOLD_TOO_SOON: 409,
  OVERLAPPING_APPOINTMENT: 409,
  HOLD_EXPIRED: 409,
  APPOINTMENT_NOT_ACTIVE: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
} as const;

export type BookingRefusalCode = keyof typeof BOOKING_REFUSALS;

/** A refusal the caller can act on; nothing was changed. */
export class BookingRefusal extends Error {
  override name = 'BookingRefusal';
  constructor(
    readonly code: BookingRefusalCode,
    message: string,
    /** When trying again later can succeed: the seconds to wait (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get status(): number {
    return BOOKING_REFUSALS[this.code];
  }
}

/** The refusal a constraint violation stands for, when it is one of booking's invariants. */
export function refusalForConstraint(err: unknown): BookingRefusal | undefined {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23505' && e.constraint === 'appointments_one_active_per_slot') {
    return new BookingRefusal('SLOT_UNAVAILABLE', 'this slot has just been held or booked by someone else');
  }
  if (e.code === '23505' && e.constraint === 'appointments_one_hold_per_user') {
    return new BookingRefusal('ALREADY_HOLDING', 'you already hold another slot; confirm or cancel it first');
  }
  if (e.code === '23P01' && e.constraint === 'appointments_one_per_test_type') {
    return new BookingRefusal('ALREADY_BOOKED', 'you already have a booking of this test type; cancel it first');
  }
  if (e.code === '23P01' && e.constraint === 'appointments_user_no_overlap') {
    return new BookingRefusal('OVERLAPPING_APPOINTMENT', 'you already have an appointment at this time');
  }
  return undefined;
}

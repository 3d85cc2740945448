/**
 * Parsing and validating an availability document, JSON or CSV, whole: one bad row
 * refuses the document, so a half-broken export never half-applies.
 *
 * JSON: `{"slots": [{"id", "centre", "testType", "start", "end", "available"}]}` (or the
 * array alone). CSV: a header row `id,centre,test_type,start,end,available`. Times are
 * ISO 8601 with an offset or Z; `available` is true/false (CSV also 1/0, yes/no).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { TEST_TYPES } from '../test-types.js';
import { MalformedFeedError, type FeedSlot } from './feed.js';

const MAX_SLOTS = 100_000;
const isoInstant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO 8601 time with Z or an offset');

const slotSchema = z
  .object({
    id: z.string().trim().min(1).max(200),
    centre: z.string().trim().min(1).max(200),
    testType: z.enum(TEST_TYPES),
    start: isoInstant,
    end: isoInstant,
    available: z.boolean(),
  })
  .refine((s) => Date.parse(s.start) < Date.parse(s.end), { message: 'start must be before end', path: ['end'] });

// a bare array is read as {slots: [...]}, so errors name the row (slots.3.testType)
const documentSchema = z.preprocess((d) => (Array.isArray(d) ? { slots: d } : d), z.object({ slots: z.array(slotSchema).max(MAX_SLOTS) }));

const BOOL: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

function fromCsv(text: string): unknown {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (err) {
    throw new MalformedFeedError(`CSV: ${(err as Error).message}`);
  }
  const first = rows[0];
  for (const col of ['id', 'centre', 'test_type', 'start', 'end', 'available']) {
    if (first && !(col in first)) throw new MalformedFeedError(`CSV: missing column "${col}"`);
  }
  return rows.map((r) => ({
    id: r.id,
    centre: r.centre,
    testType: r.test_type,
    start: r.start,
    end: r.end,
    available: BOOL[String(r.available).toLowerCase()] ?? r.available,
  }));
}

/** Parses a feed body (by content type, else by its first character); throws MalformedFeedError. */
export function parseFeed(body: string, contentType = ''): FeedSlot[] {
  const text = body.replace(/^\uFEFF/, '').trim();
  let doc: unknown;
  if (/json/i.test(contentType) || (!/csv/i.test(contentType) && /^[[{]/.test(text))) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new MalformedFeedError(`JSON: ${(err as Error).message}`);
    }
  } else {
    doc = fromCsv(text);
  }
  const parsed = documentSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MalformedFeedError(`${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  const slots = parsed.data.slots;
  const seen = new Set<string>();
  for (const s of slots) {
    if (seen.has(s.id)) throw new MalformedFeedError(`slot id "${s.id}" appears twice`);
    seen.add(s.id);
  }
  return slots.map((s) => ({
    externalId: s.id,
    centerExternalId: s.centre,
    testType: s.testType,
    start: new Date(s.start),
    end: new Date(s.end),
    available: s.available,
  }));
}

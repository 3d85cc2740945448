/**
 * The HTTP slot feed against a real local HTTP server: JSON and CSV documents upsert
 * time_slots by (source, external_id) and feed the alert outbox; a malformed document,
 * one naming an unknown centre, or an unreachable feed changes nothing and is counted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSlotFeed } from '../../src/slots/feeds/http-feed.js';
import { pollFeed } from '../../src/slots/feeds/poll.js';
import { createLogger } from '../../src/log.js';
import { useTestContext } from '../helpers/context.js';
import { insertAppointment, insertUser } from '../helpers/factories.js';

const ctx = useTestContext();
const log = createLogger({ level: 'silent' });
let server: Server;
let base: string;
// what the server answers next: status, content type, body
let next = { status: 200, type: 'application/json', body: '' };

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(next.status, { 'content-type': next.type });
    res.end(next.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await ctx.pool.query(
    `INSERT INTO test_centers (external_id, name, postcode, latitude, longitude)
     VALUES ('C1', 'Centre one', 'AB1 2CD', 51.5, -0.1), ('C2', 'Centre two', 'EF3 4GH', 53.4, -2.2)`,
  );
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const feed = () => new HttpSlotFeed(`${base}/availability`, 'dvsa-feed');

async function snapshot() {
  const slots = await ctx.pool.query(
    `SELECT s.external_id, c.external_id AS centre, s.test_type::text, s.start_time, s.end_time, s.status::text
       FROM time_slots s JOIN test_centers c ON c.id = s.center_id WHERE s.source = 'dvsa-feed' ORDER BY s.external_id`,
  );
  const releases = await ctx.pool.query(
    `SELECT s.external_id, r.reason FROM slot_releases r JOIN time_slots s ON s.id = r.slot_id WHERE s.source = 'dvsa-feed' ORDER BY r.id`,
  );
  return { slots: slots.rows, releases: releases.rows };
}

async function polls() {
  const { rows } = await ctx.pool.query(`SELECT outcome, slots, inserted, updated, error FROM feed_polls ORDER BY id`);
  return rows;
}

describe('HttpSlotFeed + pollFeed', () => {
  it('inserts slots from a JSON document and releases the available ones into the outbox', async () => {
    next = {
      status: 200,
      type: 'application/json',
      body: JSON.stringify({
        slots: [
          { id: 'a', centre: 'C1', testType: 'practical', start: '2031-05-01T09:00:00Z', end: '2031-05-01T10:00:00Z', available: true },
          { id: 'b', centre: 'C2', testType: 'theory', start: '2031-05-01T09:00:00+01:00', end: '2031-05-01T09:30:00+01:00', available: false },
        ],
      }),
    };
    expect(await pollFeed(ctx.pool, feed(), log)).toEqual({ outcome: 'ok', slots: 2, inserted: 2, updated: 0 });
    const s = await snapshot();
    expect(s.slots).toEqual([
      { external_id: 'a', centre: 'C1', test_type: 'practical', start_time: new Date('2031-05-01T09:00:00Z'), end_time: new Date('2031-05-01T10:00:00Z'), status: 'AVAILABLE' },
      { external_id: 'b', centre: 'C2', test_type: 'theory', start_time: new Date('2031-05-01T08:00:00Z'), end_time: new Date('2031-05-01T08:30:00Z'), status: 'BOOKED' },
    ]);
    expect(s.releases).toEqual([{ external_id: 'a', reason: 'feed' }]);
  });

  it('updates by external id from a CSV document: a booked slot freed, times moved, an unchanged one left alone', async () => {
    const before = await ctx.pool.query<{ updated_at: Date }>(`SELECT updated_at FROM time_slots WHERE external_id = 'a'`);
    next = {
      status: 200,
      type: 'text/csv',
      body: [
        'id,centre,test_type,start,end,available',
        'a,C1,practical,2031-05-01T09:00:00Z,2031-05-01T10:00:00Z,true',
        'b,C2,theory,2031-05-01T08:15:00Z,2031-05-01T08:45:00Z,yes',
        'c,C2,practical,2031-05-02T08:00:00Z,2031-05-02T09:00:00Z,0',
      ].join('\n'),
    };
    expect(await pollFeed(ctx.pool, feed(), log)).toEqual({ outcome: 'ok', slots: 3, inserted: 1, updated: 1 });
    const s = await snapshot();
    expect(s.slots.map((r) => [r.external_id, r.status, (r.start_time as Date).toISOString()])).toEqual([
      ['a', 'AVAILABLE', '2031-05-01T09:00:00.000Z'],
      ['b', 'AVAILABLE', '2031-05-01T08:15:00.000Z'],
      ['c', 'BOOKED', '2031-05-02T08:00:00.000Z'],
    ]);
    expect(s.releases).toEqual([
      { external_id: 'a', reason: 'feed' },
      { external_id: 'b', reason: 'feed' },
    ]);
    const after = await ctx.pool.query<{ updated_at: Date }>(`SELECT updated_at FROM time_slots WHERE external_id = 'a'`);
    expect(after.rows[0]!.updated_at).toEqual(before.rows[0]!.updated_at);
  });

  it('keeps the status of a slot someone holds here, whatever the feed says', async () => {
    const user = await insertUser(ctx.pool);
    const { rows } = await ctx.pool.query<{ id: string }>(`SELECT id FROM time_slots WHERE external_id = 'a'`);
    await insertAppointment(ctx.pool, { userId: user.id, slotId: rows[0]!.id });
    await ctx.pool.query(`UPDATE time_slots SET status = 'HOLD' WHERE id = $1`, [rows[0]!.id]);
    next = {
      status: 200,
      type: 'application/json',
      body: JSON.stringify([{ id: 'a', centre: 'C1', testType: 'practical', start: '2031-05-01T09:00:00Z', end: '2031-05-01T10:00:00Z', available: true }]),
    };
    expect(await pollFeed(ctx.pool, feed(), log)).toMatchObject({ outcome: 'ok' });
    expect((await snapshot()).slots.find((r) => r.external_id === 'a')?.status).toBe('HOLD');
  });

  const bad: [string, { status: number; type: string; body: string }, string, RegExp][] = [
    ['broken JSON', { status: 200, type: 'application/json', body: '{"slots": [' }, 'malformed', /JSON/],
    ['a bad row among good ones', {
      status: 200,
      type: 'application/json',
      body: JSON.stringify({
        slots: [
          { id: 'a', centre: 'C1', testType: 'practical', start: '2031-06-01T09:00:00Z', end: '2031-06-01T10:00:00Z', available: false },
          { id: 'z', centre: 'C1', testType: 'driving', start: '2031-06-01T09:00:00Z', end: '2031-06-01T10:00:00Z', available: true },
        ],
      }),
    }, 'malformed', /slots\.1\.testType/],
    ['end before start', { status: 200, type: 'text/csv', body: 'id,centre,test_type,start,end,available\na,C1,practical,2031-06-01T10:00:00Z,2031-06-01T09:00:00Z,false' }, 'malformed', /start must be before end/],
    ['a time without offset', { status: 200, type: 'text/csv', body: 'id,centre,test_type,start,end,available\na,C1,practical,2031-06-01T09:00:00,2031-06-01T10:00:00Z,false' }, 'malformed', /ISO 8601/],
    ['a missing column', { status: 200, type: 'text/csv', body: 'id,centre,start,end,available\na,C1,2031-06-01T09:00:00Z,2031-06-01T10:00:00Z,false' }, 'malformed', /test_type/],
    ['a duplicated id', {
      status: 200,
      type: 'text/csv',
      body: 'id,centre,test_type,start,end,available\nq,C1,practical,2031-06-01T09:00:00Z,2031-06-01T10:00:00Z,1\nq,C1,practical,2031-06-02T09:00:00Z,2031-06-02T10:00:00Z,1',
    }, 'malformed', /twice/],
    ['an unknown centre', {
      status: 200,
      type: 'application/json',
      body: JSON.stringify([
        { id: 'a', centre: 'C1', testType: 'practical', start: '2031-06-01T09:00:00Z', end: '2031-06-01T10:00:00Z', available: false },
        { id: 'n', centre: 'NOPE', testType: 'practical', start: '2031-06-01T09:00:00Z', end: '2031-06-01T10:00:00Z', available: true },
      ]),
    }, 'malformed', /unknown centre "NOPE"/],
    ['an HTTP error', { status: 503, type: 'text/plain', body: 'down' }, 'unavailable', /HTTP 503/],
  ];
  for (const [what, answer, outcome, message] of bad) {
    it(`refuses ${what}, changing nothing and counting it`, async () => {
      const before = await snapshot();
      const pollsBefore = (await polls()).length;
      next = answer;
      const result = await pollFeed(ctx.pool, feed(), log);
      expect(result.outcome).toBe(outcome);
      expect('error' in result ? result.error : '').toMatch(message);
      expect(await snapshot()).toEqual(before);
      const after = await polls();
      expect(after).toHaveLength(pollsBefore + 1);
      expect(after.at(-1)).toMatchObject({ outcome, slots: null });
    });
  }

  it('counts an unreachable feed as unavailable', async () => {
    const result = await pollFeed(ctx.pool, new HttpSlotFeed('http://127.0.0.1:1/feed', 'dvsa-feed', 2000), log);
    expect(result.outcome).toBe('unavailable');
    const { rows } = await ctx.pool.query(`SELECT outcome, count(*)::int AS n FROM feed_polls GROUP BY outcome ORDER BY outcome`);
    expect(rows).toEqual([
      { outcome: 'malformed', n: 7 },
      { outcome: 'ok', n: 3 },
      { outcome: 'unavailable', n: 2 },
    ]);
  });
});

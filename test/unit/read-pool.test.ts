/** Which failures of a read on the replica send it to the primary, and which are the statement's own. */
import { describe, expect, it } from 'vitest';
import { replicaFailed } from '../../src/db/read-pool.js';

const pgError = (code: string) => Object.assign(new Error('from PostgreSQL'), { code, severity: 'ERROR' });

describe('replicaFailed', () => {
  it.each([
    ['the socket refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' })],
    ['the pool timed out connecting', new Error('timeout exceeded when trying to connect')],
    ['the connection cut', new Error('Connection terminated unexpectedly')],
    ['a shutdown', pgError('57P01')],
    ['a server still starting', pgError('57P03')],
    ['no connection slots', pgError('53300')],
    ['a connection exception', pgError('08006')],
    ['a conflict with recovery', pgError('40001')],
  ])('falls back on %s', (_what, err) => expect(replicaFailed(err)).toBe(true));

  it.each([
    ['a syntax error', pgError('42601')],
    ['a bad cast', pgError('22P02')],
    ['a missing relation', pgError('42P01')],
  ])('rethrows %s, which the primary would answer the same', (_what, err) => expect(replicaFailed(err)).toBe(false));
});

import { describe, expect, it } from 'vitest';
import { dependencyUnavailable } from '../../src/http/unavailable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('dependencyUnavailable', () => {
  it('knows an outage of PostgreSQL or Redis however it is reported', () => {
    expect(dependencyUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(dependencyUnavailable(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''))).toBe(true);
    expect(dependencyUnavailable(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(dependencyUnavailable(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(dependencyUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(dependencyUnavailable(withCode('sorry, too many clients already', '53300'))).toBe(true);
    expect(dependencyUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(dependencyUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(dependencyUnavailable(new Error('Connection is closed.'))).toBe(true);
    expect(dependencyUnavailable(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
    expect(dependencyUnavailable(new Error('query failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }))).toBe(true);
  });

  it('leaves every other fault a fault of ours', () => {
    expect(dependencyUnavailable(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(dependencyUnavailable(withCode('syntax error at or near "SELEC"', '42601'))).toBe(false);
    expect(dependencyUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(dependencyUnavailable('ECONNREFUSED')).toBe(false);
    expect(dependencyUnavailable(null)).toBe(false);
  });
});

/** `users:create` and `centers:import` as operators run them: a real process against the file's database. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/accounts/passwords.js';
import { projectRoot } from '../../src/paths.js';
import { useTestContext } from '../helpers/context.js';
import { runCli } from '../helpers/cli.js';

const ctx = useTestContext();
const DVSA = join(projectRoot, '..', 'shared', 'data', 'dvsa-test-centres.csv');

const env = () => ({ DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl });
const cli = (...args: string[]) => runCli(args, env());
const withInput = (input: string, ...args: string[]) => runCli(args, env(), { input });
const users = async (email: string) => (await ctx.pool.query(`SELECT role, password_hash FROM users WHERE lower(email) = lower($1)`, [email])).rows;

describe('users:create', () => {
  it('creates a staff account whose password, piped in, verifies, and refuses bad arguments', async () => {
    // only the first line is the password: what follows is not read
    const ok = await withInput('a long staff password\nsecond line\n', 'users:create', '--email', 'Ops@Example.com', '--role', 'OPERATOR');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^created OPERATOR [0-9a-f-]{36}$/m);
    const rows = await users('Ops@Example.com');
    expect(rows[0].role).toBe('OPERATOR');
    expect(await verifyPassword('a long staff password', rows[0].password_hash)).toBe(true);

    // a Windows line ending, and no final newline at all, are the same password
    const crlf = await withInput('a long staff password\r\n', 'users:create', '--email', 'crlf@example.com');
    expect(crlf.code, crlf.stderr).toBe(0);
    expect(await verifyPassword('a long staff password', (await users('crlf@example.com'))[0].password_hash)).toBe(true);
    const bare = await withInput('no newline at the end', 'users:create', '--email', 'bare@example.com');
    expect(bare.code, bare.stderr).toBe(0);
    expect(await verifyPassword('no newline at the end', (await users('bare@example.com'))[0].password_hash)).toBe(true);

    const taken = await withInput('another password\n', 'users:create', '--email', 'ops@example.com', '--role', 'ADMIN');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already exists/);
    const badRole = await withInput('long enough\n', 'users:create', '--email', 'x@example.com', '--role', 'ROOT');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/--role must be one of CLIENT, OPERATOR, ADMIN/);
    const short = await withInput('short\n', 'users:create', '--email', 'x@example.com');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/the password must be 8 to 200 characters/);
    const none = await cli('users:create', '--email', 'x@example.com');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no password on standard input; pipe it in/);
    expect(await users('x@example.com')).toEqual([]);
  });

  // script(1) gives the command a terminal, as an operator's shell would
  it.runIf(existsSync('/usr/bin/script'))('asks twice on a terminal without echoing what is typed', async () => {
    const typed = 'typed at the prompt 42';
    const command = `${process.execPath} --import tsx src/cli/main.ts users:create --email tty@example.com --role OPERATOR`;
    const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: projectRoot, env: { ...process.env, ...env(), LOG_LEVEL: 'warn' } });
    let out = '';
    const seen = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (out.includes(text) ? resolve() : undefined);
        child.stdout.on('data', (d) => {
          out += d;
          check();
        });
        child.once('exit', () => reject(new Error(`exited before "${text}": ${out}`)));
        check();
      });
    // typed only once the prompt is up: the terminal echoes what arrives before echo is off
    await seen('Password for the new account:');
    child.stdin.write(`${typed}\r`);
    await seen('The same again:');
    child.stdin.write(`${typed}\r`);
    await seen('created OPERATOR');
    child.stdin.end();
    await new Promise((resolve) => child.once('close', resolve));
    expect(out).not.toContain(typed);
    expect(await verifyPassword(typed, (await users('tty@example.com'))[0].password_hash)).toBe(true);
  });

  it('refuses --password with exit code 1, saying how to pass the password now, and creates nothing', async () => {
    for (const args of [['--password', 'a long staff password'], ['--password=a long staff password']]) {
      const res = await withInput('a long staff password\n', 'users:create', '--email', 'argv@example.com', ...args, '--role', 'ADMIN');
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/--password is not accepted/);
      expect(res.stderr).toMatch(/first line of standard input/);
      expect(res.stdout).toBe('');
    }
    expect(await users('argv@example.com')).toEqual([]);
  });
});

describe('centers:import', () => {
  it('imports a DVSA-format file idempotently, updating changed rows and skipping bad ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sw-centres-'));
    const header = 'id,name,latitude,longitude,addrLine1,addrLine2,addrLine3,addrLine4,addrLine5,postcode';
    const rows = Array.from({ length: 250 }, (_, i) => `${9000 + i},Centre ${i},${(51 + i / 100).toFixed(4)},${(-1 + i / 100).toFixed(4)},1 High St,"Town, Shire",,,,AB${i % 90} 1CD`);
    const file = join(dir, 'centres.csv');
    await writeFile(file, [header, ...rows].join('\n') + '\n');

    const first = await cli('centers:import', file);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('centers:import: 250 rows: 250 created, 0 updated, 0 unchanged, 0 skipped');
    const again = await cli('centers:import', file);
    expect(again.stdout.trim()).toBe('centers:import: 250 rows: 0 created, 0 updated, 250 unchanged, 0 skipped');

    const changed = [header, ...rows.slice(0, 249), `9249,Renamed,52.0,-0.5,,,,,,ZZ1 1ZZ`, `9999,Bad lat,95,0,,,,,,AB1 1AA`, `9998,,51,0,,,,,,AB1 1AA`].join('\n');
    await writeFile(file, changed);
    const third = await cli('centers:import', file);
    expect(third.code).toBe(1); // some rows were skipped
    expect(third.stdout.trim()).toBe('centers:import: 252 rows: 0 created, 1 updated, 249 unchanged, 2 skipped');
    expect(third.stderr).toMatch(/line 252: latitude must be a number from -90 to 90/);
    expect(third.stderr).toMatch(/line 253: name is missing/);
    const { rows: r } = await ctx.pool.query(`SELECT name, postcode, address, round(ST_Y(location::geometry)::numeric, 1) AS lat FROM test_centers WHERE external_id = 'dvsa:9249'`);
    expect(r[0]).toEqual({ name: 'Renamed', postcode: 'ZZ1 1ZZ', address: null, lat: '52.0' });
    const { rows: a } = await ctx.pool.query(`SELECT address FROM test_centers WHERE external_id = 'dvsa:9000'`);
    expect(a[0].address).toBe('1 High St, Town, Shire');

    const missing = await cli('centers:import', join(dir, 'nope.csv'));
    expect(missing.code).toBe(2);
  });

  it.runIf(existsSync(DVSA))('loads the real DVSA list, then finds nothing to change', async () => {
    const first = await cli('centers:import', DVSA);
    expect(first.code, first.stderr).toBe(0);
    const m = /(\d+) rows: (\d+) created, 0 updated, 0 unchanged, 0 skipped/.exec(first.stdout);
    expect(m, first.stdout).not.toBeNull();
    expect(Number(m![2])).toBe(Number(m![1]));
    expect(Number(m![1])).toBeGreaterThan(300);
    const again = await cli('centers:import', DVSA);
    expect(again.stdout).toMatch(new RegExp(`${m![1]} rows: 0 created, 0 updated, ${m![1]} unchanged, 0 skipped`));
  });
});

import { createInterface } from 'node:readline';
import { hashPassword } from '../../accounts/passwords.js';
import { ROLES, type Role } from '../../accounts/roles.js';
import { createUser, EmailTakenError } from '../../accounts/users.js';
import { createPool } from '../../db/pool.js';
import { parseOptions, UsageError, type Command } from '../command.js';

const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
const HOW_TO_PASS = "pipe it in (the first line of standard input), e.g. `printf '%s\\n' \"$PASSWORD\" | npm run cli -- users:create --email E --role R`, or run the command in a terminal to be asked for it";

/** The first line of standard input, without its line ending; undefined when it is empty. */
async function firstLine(): Promise<string | undefined> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}

/**
 * Asks on the terminal with echo off; Ctrl-C or Ctrl-D with nothing typed cancels. Our own
 * few lines rather than a prompt package: it is the project's only prompt, and raw mode on
 * stdin is all it takes.
 */
function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // echo off before the question shows: what is typed the moment it appears stays hidden
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || (ch === '\u0004' && value)) {
          finish();
          return resolve(value);
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          return reject(new UsageError('cancelled: no password given'));
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The new account's password: asked twice on a terminal, else the first line of standard input. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const password = await askHidden('Password for the new account: ');
    if ((await askHidden('The same again: ')) !== password) throw new UsageError('the two passwords differ; nothing was created');
    return password;
  }
  const line = await firstLine();
  if (line === undefined || line === '') throw new UsageError(`no password on standard input; ${HOW_TO_PASS}`);
  return line;
}

/**
 * Creates an account of any role (staff accounts cannot be made over HTTP). The password
 * never comes from the command line, where `ps` and the shell's history would show it.
 */
export const usersCreate: Command = {
  name: 'users:create',
  usage: '--email E --role ADMIN|OPERATOR|CLIENT [--first-name F] [--last-name L], the password on standard input (first line) or typed at the prompt',
  async run(args, config) {
    if (args.some((a) => a === '--password' || a.startsWith('--password='))) {
      console.error(`users:create: --password is not accepted, as a password on the command line shows in \`ps\` and the shell's history; ${HOW_TO_PASS}`);
      return 1;
    }
    const values = parseOptions(args, {
      email: { type: 'string' },
      role: { type: 'string', default: 'CLIENT' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
    });
    const { email } = values;
    const role = values.role?.toUpperCase() as Role;
    if (!email || !EMAIL.test(email) || email.length > 254) throw new UsageError('--email must be an email address');
    if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const password = await readPassword();
    if (password.length < 8 || password.length > 200) throw new UsageError('the password must be 8 to 200 characters');

    const pool = createPool(config.DATABASE_DIRECT_URL, { max: 1, applicationName: 'slotwatch-cli' });
    try {
      const user = await createUser(pool, {
        email,
        passwordHash: await hashPassword(password),
        role,
        firstName: values['first-name'] ?? null,
        lastName: values['last-name'] ?? null,
      });
      console.log(`created ${user.role} ${user.id}`);
      return 0;
    } catch (err) {
      if (err instanceof EmailTakenError) {
        console.error(`users:create: ${err.message}`);
        return 1;
      }
      throw err;
    } finally {
      await pool.end();
    }
  },
};

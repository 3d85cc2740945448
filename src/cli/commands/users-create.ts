import { hashPassword } from '../../accounts/passwords.js';
import { ROLES, type Role } from '../../accounts/roles.js';
import { createUser, EmailTakenError } from '../../accounts/users.js';
import { createPool } from '../../db/pool.js';
import { parseOptions, UsageError, type Command } from '../command.js';

const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

/** Creates an account of any role (staff accounts cannot be made over HTTP). */
export const usersCreate: Command = {
  name: 'users:create',
  usage: '--email E --password P --role ADMIN|OPERATOR|CLIENT [--first-name F] [--last-name L]',
  async run(args, config) {
    const values = parseOptions(args, {
      email: { type: 'string' },
      password: { type: 'string' },
      role: { type: 'string', default: 'CLIENT' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
    });
    const { email, password } = values;
    const role = values.role?.toUpperCase() as Role;
    if (!email || !EMAIL.test(email) || email.length > 254) throw new UsageError('--email must be an email address');
    if (!password || password.length < 8 || password.length > 200) throw new UsageError('--password must be 8 to 200 characters');
    if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);

    const pool = createPool(config.DATABASE_URL, { max: 1, applicationName: 'slotwatch-cli' });
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

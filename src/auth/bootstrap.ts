import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import { generatePassword, hashPassword } from './passwords.js';
import type { AuthStore } from './store.js';

/**
 * On the first start (no users yet) creates the admin. With no
 * KAI_ADMIN_PASSWORD a strong random password is generated and printed once,
 * on stderr, never into the JSON log. There is no fixed default password.
 */
export async function ensureFirstAdmin(store: AuthStore, auth: AuthConfig, logger: Logger, announce: (text: string) => void): Promise<void> {
  if (store.userCount() > 0) return;
  const password = auth.adminPassword ?? generatePassword();
  store.createUser(auth.adminUsername, 'admin', await hashPassword(password));
  logger.info({ username: auth.adminUsername, passwordFrom: auth.adminPassword ? 'KAI_ADMIN_PASSWORD' : 'generated' }, 'created the first admin');
  if (!auth.adminPassword) {
    announce(
      [
        '',
        '================================================================',
        ` Kai created the admin user "${auth.adminUsername}" with the password:`,
        `     ${password}`,
        ' It is shown only this once. Change it after logging in.',
        '================================================================',
        '',
      ].join('\n'),
    );
  }
}

// SPDX-License-Identifier: MIT
// The analysts' login: the `tmidb_reader` role (migration 009: SELECT on the typed views and the
// projections, read-only transactions) gets a password of its own, kept beside tmiDB's home, so that
// `tmictl psql --read-only` is a real login as that role — not a superuser session that could RESET ROLE.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const readerRole = 'tmidb_reader';

/**
 * Gives tmidb_reader LOGIN and the password stored in `<home>/pg/reader-password` (made on first use,
 * mode 0600), connecting with `adminUrl`. Returns the reader's URL on the same server and database.
 */
export async function ensureReaderLogin(adminUrl: string, home: string): Promise<string> {
  const file = path.join(home, 'pg', 'reader-password');
  let password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (password === '') {
    password = randomBytes(24).toString('base64url');
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
  }
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // The password travels as a literal: ALTER ROLE takes no parameters. It is base64url (no quotes).
    await client.query(`ALTER ROLE ${readerRole} LOGIN PASSWORD '${password}'`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.username = readerRole;
  url.password = password;
  return url.toString();
}

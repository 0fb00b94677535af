// SPDX-License-Identifier: MIT
// The analysts' login: the `tmidb_reader` role (migration 009: SELECT on the typed views and the
// projections, read-only transactions) gets a password of its own, so that `tmictl psql --read-only` is
// a real login as that role — not a superuser session that could RESET ROLE. The password is derived
// from the admin URL's (HMAC-SHA256, one way): every tmictl on the same server sets the same one, so two
// of them never race each other; without an admin password (a trusted socket) a random one is kept in
// `<home>/pg/reader-password`.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const readerRole = 'tmidb_reader';

/** Gives tmidb_reader LOGIN and its password, connecting with `adminUrl`; returns the reader's URL. */
export async function ensureReaderLogin(adminUrl: string, home: string): Promise<string> {
  const url = new URL(adminUrl);
  const password = url.password
    ? createHmac('sha256', decodeURIComponent(url.password))
        .update(`${readerRole}@${url.host}`)
        .digest('base64url')
    : storedPassword(home);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // ALTER ROLE takes no parameters; the password is base64url (no quotes to escape).
    await client.query(`ALTER ROLE ${readerRole} LOGIN PASSWORD '${password}'`);
  } finally {
    await client.end();
  }
  url.username = readerRole;
  url.password = password;
  return url.toString();
}

function storedPassword(home: string): string {
  const file = path.join(home, 'pg', 'reader-password');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (kept !== '') return kept;
  const password = randomBytes(24).toString('base64url');
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

// SPDX-License-Identifier: MIT
// The README's error table is the one generated from errors/catalogue.ts: no code undocumented.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../../config/index.js';
import { errorsMarkdown } from '../../errors/index.js';

it('README.md carries the generated error table (npm run readme:errors)', () => {
  const readme = readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
  expect(readme).toContain(`<!-- error-table:start -->\n${errorsMarkdown()}\n<!-- error-table:end -->`);
});

// SPDX-License-Identifier: MIT
// The README's configuration table is the one generated from config/config.ts: no setting undocumented.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { configMarkdown, packageRoot } from '../../config/index.js';

it('README.md carries the generated configuration table (node ops/update-readme-config.mjs)', () => {
  const readme = readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
  expect(readme).toContain(configMarkdown());
});

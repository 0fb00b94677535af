// SPDX-License-Identifier: MIT
// Every .ts file carries the licence header; every layer folder names its public exports in index.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { hasSpdxHeader, LAYERS, SPDX_HEADER, sourceFiles } from '../../support/architecture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

it.each([
  [`${SPDX_HEADER}\nimport x from 'y';`, true],
  [`${SPDX_HEADER}\r\nimport x from 'y';`, true],
  [`#!/usr/bin/env node\n${SPDX_HEADER}\n`, true],
  [`import x from 'y';\n${SPDX_HEADER}\n`, false],
  ['// SPDX-License-Identifier: Apache-2.0\n', false],
  [`\n${SPDX_HEADER}\n`, false],
  ['', false],
])('the header check: %j → %s', (text, ok) => {
  expect(hasSpdxHeader(text)).toBe(ok);
});

it(`every .ts file starts with "${SPDX_HEADER}" (after a #! line)`, () => {
  const files = sourceFiles(root);
  expect(files.length).toBeGreaterThan(100);
  const missing = files.filter((file) => !hasSpdxHeader(readFileSync(path.join(root, file), 'utf8')));
  expect(missing).toEqual([]);
});

it('every layer folder that exists has an index.ts naming its public exports', () => {
  const present = LAYERS.flat().filter((folder) => existsSync(path.join(root, folder)));
  expect(present.filter((folder) => !existsSync(path.join(root, folder, 'index.ts')))).toEqual([]);
});

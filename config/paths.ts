// SPDX-License-Identifier: MIT
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The repository root, whether running from sources (vitest) or from dist/. */
export const packageRoot: string = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

// SPDX-License-Identifier: MIT
// Regenerates the error table of README.md from errors/catalogue.ts (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { errorsMarkdown } from '../dist/errors/index.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const start = '<!-- error-table:start -->';
const end = '<!-- error-table:end -->';
if (!readme.includes(start) || !readme.includes(end)) throw new Error(`README.md lacks ${start} … ${end}`);
const next = readme.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${errorsMarkdown()}\n${end}`);
writeFileSync(file, next);

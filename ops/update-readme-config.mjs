// SPDX-License-Identifier: MIT
// Regenerates the configuration table of README.md from config/config.ts (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdown } from '../dist/config/index.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
const next = readme.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${configMarkdown()}\n${end}`);
writeFileSync(file, next);

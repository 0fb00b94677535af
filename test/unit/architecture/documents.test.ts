// SPDX-License-Identifier: MIT
// The documents cite only what is in the repository: every relative link and every path they name exists,
// and nothing points at design documents kept outside it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentRefs, ISOLATED, LAYERS, resolvesIn, TOOLING } from '../../support/architecture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const folders = new Set<string>([...LAYERS.flat(), ...TOOLING, ...ISOLATED, 'docs', '.ci']);
folders.delete('.');
/** A folder of the architecture named before it lands (`errors/`, `console/`) is a plan, not a broken path. */
const plannedFolders = new Set([...folders].map((folder) => `${folder}/`));

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(rel);
    return e.name.endsWith('.md') ? [rel] : [];
  });
}

const documents = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', ...markdownFiles('docs')];

describe('finding what a document points at', () => {
  it.each([
    ['see [the ADRs](docs/adr/README.md#top)', ['docs/adr/README.md'], []],
    ['[Keep a Changelog](https://keepachangelog.com/) and [here](#quick-start)', [], []],
    ['the runner (`pipelines/runner`) and `docs/adr/`', [], ['pipelines/runner', 'docs/adr/']],
    ['`tmi.in.<target_id>`, `application/problem+json`, `bench/results/<date>.json`', [], []],
    ['`db/migrations/004_event_ledger.sql`', [], ['db/migrations/004_event_ledger.sql']],
  ])('%s', (markdown, links, paths) => {
    expect(documentRefs(markdown, folders)).toEqual({ links, paths });
  });

  it.each([
    ['pipelines/stages', true], // the module …
    ['pipelines/stages.ts', true],
    ['pipelines/runner', true], // … or the folder
    ['pipelines/', true],
    ['pipelines/nothing-here', false],
  ])('%s resolves: %s', (target, ok) => {
    expect(resolvesIn((p) => existsSync(path.join(root, p)), '.', target)).toBe(ok);
  });
});

describe.each(documents)('%s', (document) => {
  const text = readFileSync(path.join(root, document), 'utf8');
  const exists = (p: string) => existsSync(path.join(root, p));

  it('links only to files in the repository, and names only paths that exist', () => {
    const { links, paths } = documentRefs(text, folders);
    const base = path.posix.dirname(document);
    // The changelog names files as they were (`context.ts` became `batch.ts`): its links are checked, not its paths.
    const named = document === 'CHANGELOG.md' ? [] : paths.filter((p) => !plannedFolders.has(p));
    const missing = [
      ...links.filter((l) => !resolvesIn(exists, base, l)).map((l) => `link ${l}`),
      ...named.filter((p) => !resolvesIn(exists, '.', p)).map((p) => `path ${p}`),
    ];
    expect(missing).toEqual([]);
  });

  it('cites no design document kept outside the repository', () => {
    const outside = ['ARCHITECTURE.md', '../shared', 'tmidb-design', '/work/'];
    expect(outside.filter((needle) => text.includes(needle))).toEqual([]);
  });
});

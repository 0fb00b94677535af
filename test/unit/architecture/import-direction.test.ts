// SPDX-License-Identifier: MIT
// Imports flow one way: cli/, api/ → connectors/, ops/ → pipelines/ → processors/ → schemas/, projections/
// → db/ → config/ → errors/ (test/support/architecture.ts holds the rules). Every .ts file is parsed with
// the TypeScript compiler; an import up or sideways, or a cycle between folders, fails naming the import.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeCycle,
  folderCycles,
  folderGraph,
  type ImportRef,
  importsOf,
  LAYERS,
  ruleBroken,
  sourceFiles,
  violations,
} from '../../support/architecture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const ref = (file: string, specifier: string): ImportRef => ({ file, specifier, line: 1 });

describe('the rule for one import', () => {
  it.each([
    // [file, specifier, allowed]
    ['api/routes/targets.ts', '../../projections/index.js', true],
    ['api/server.ts', '../db/index.js', true], // skipping layers downwards is fine
    ['cli/runtime.ts', '../api/server.js', true], // the one allowed sideways import
    ['config/config.ts', '../errors/index.js', true],
    ['processors/alarm/core.ts', '../../schemas/index.js', true],
    ['processors/alarm.ts', './alarm-core.js', true],
    ['test/unit/x.test.ts', '../../cli/runtime.js', true],
    ['bench/run.ts', '../api/server.js', true],
    ['vitest.config.ts', './test/support/env.js', true],
    ['processors/normalize/model.ts', '../../models/normalizer/meta.json', true],
    ['api/server.ts', 'fastify', true],
    ['api/server.ts', 'node:fs', true],
    ['processors/alarm/alarm.ts', '../../api/server.js', false], // up
    ['db/pool.ts', '../config/../pipelines/x.js', false], // up, however spelled
    ['errors/catalogue.ts', '../config/index.js', false], // the bottom layer imports nothing
    ['api/auth/keys.ts', '../../cli/index.js', false], // sideways
    ['connectors/nats.ts', '../ops/index.js', false], // sideways
    ['schemas/registry.ts', '../projections/index.js', false], // sideways
    ['pipelines/runner/run-stage.ts', '../../test/support/env.js', false], // into tooling
    ['processors/normalize/model.ts', '../../models/train.ts', false], // models/ scripts
    ['console/src/app.ts', '../../api/ws/protocol.js', false], // the browser app imports nothing
    ['api/server.ts', '../console/src/app.js', false],
    ['api/server.ts', '../../shared/x.js', false], // outside the repository
    ['misc/x.ts', '../db/index.js', false], // a folder in no layer
    ['db/pool.ts', '../misc/x.js', false],
  ])('%s imports %s: allowed %s', (file, specifier, allowed) => {
    expect(ruleBroken(ref(file, specifier)) === undefined).toBe(allowed);
  });

  it('names the file, the import and the rule', () => {
    const [v] = violations([{ file: 'processors/alarm.ts', specifier: '../api/server.js', line: 7 }]);
    expect(v).toMatchObject({ file: 'processors/alarm.ts', specifier: '../api/server.js', line: 7 });
    expect(v?.rule).toMatch(/^processors\/ may not import api\/: it is a layer above \(cli\/, api\/ → /);
  });
});

describe('parsing imports with the TypeScript compiler', () => {
  it('finds static, type-only, re-exported, dynamic, required and type-position imports', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export * from './c.js';",
      "export { d } from './d.js';",
      "const e = await import('./e.js');",
      'const f = await import(`./f.js`);',
      "import g = require('./g.js');",
      "type H = typeof import('./h.js');",
      'const dynamic = await import(name); // not a literal: not resolvable',
      'const s = \'import x from "./not-an-import.js"\';',
      '// import { z } from "./comment.js";',
    ].join('\n');
    expect(importsOf('api/x.ts', text).map((r) => `${r.line}:${r.specifier}`)).toEqual([
      '1:./a.js',
      '2:../b.js',
      '3:./c.js',
      '4:./d.js',
      '5:./e.js',
      '6:./f.js',
      '7:./g.js',
      '8:./h.js',
    ]);
  });
});

describe('cycles between folders', () => {
  // Each import is "file specifier".
  it.each([
    [['a/x.ts ../b/y.js', 'b/y.ts ../a/x.js'], [['a', 'b']]],
    [['a/x.ts ../b/y.js', 'b/y.ts ../c/z.js', 'c/z.ts ../a/x.js'], [['a', 'b', 'c']]],
    [['a/x.ts ../b/y.js', 'b/y.ts ../c/z.js', 'a/x.ts ../c/z.js'], []],
    [['a/x.ts ./y.js', 'a/y.ts ./x.js'], []], // within one folder: not a folder cycle
  ])('%j → cycles %j', (imports, cycles) => {
    const refs = imports.map((line) => ref(line.split(' ')[0]!, line.split(' ')[1]!));
    expect(folderCycles(folderGraph(refs))).toEqual(cycles);
  });

  it('names the imports that close a cycle', () => {
    const graph = folderGraph([ref('a/x.ts', '../b/y.js'), ref('b/y.ts', '../a/x.js')]);
    expect(describeCycle(['a', 'b'], graph)).toEqual([
      "a/ → b/: a/x.ts:1 imports '../b/y.js'",
      "b/ → a/: b/y.ts:1 imports '../a/x.js'",
    ]);
  });
});

describe('this repository', () => {
  const files = sourceFiles(root);
  const refs = files.flatMap((file) => importsOf(file, readFileSync(path.join(root, file), 'utf8')));

  it('reads every layer folder that exists (folders still to come, such as errors/, are skipped)', () => {
    const present = LAYERS.flat().filter((folder) => existsSync(path.join(root, folder)));
    expect(present).toEqual(
      expect.arrayContaining(['cli', 'api', 'pipelines', 'processors', 'db', 'config']),
    );
    for (const folder of present) expect(files.some((f) => f.startsWith(`${folder}/`))).toBe(true);
    expect(refs.length).toBeGreaterThan(500);
  });

  it('imports only downwards (or as SIDEWAYS_ALLOWED says)', () => {
    const broken = violations(refs).map((v) => `${v.file}:${v.line} imports '${v.specifier}': ${v.rule}`);
    expect(broken).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const graph = folderGraph(refs);
    expect(folderCycles(graph).map((cycle) => describeCycle(cycle, graph))).toEqual([]);
  });
});

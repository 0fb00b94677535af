// SPDX-License-Identifier: MIT
// The architecture's rules as data, and the pure checks the architecture tests run over the tree:
// which top-level folder may import which, the folder graph's cycles, the licence header, the index files.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers, top to bottom. A folder imports only from layers below its own (skipping layers is fine),
 * never from a layer above it, never sideways within its layer (except SIDEWAYS_ALLOWED).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli', 'api'],
  ['connectors', 'ops'],
  ['pipelines'],
  ['processors'],
  ['schemas', 'projections'],
  ['db'],
  ['config'],
  ['errors'],
];

/** Sideways imports within one layer that are allowed, each with its reason. */
export const SIDEWAYS_ALLOWED: readonly { from: string; to: string; why: string }[] = [
  { from: 'cli', to: 'api', why: 'cli/ is the composition root: it starts the API server in a process' },
];

/**
 * Tooling: may import anything; no layer imports them. `.` holds the root files (vitest.config.ts).
 * models/ holds the normalizer's data and scripts: a layer may import its data files (JSON), not its code.
 */
export const TOOLING = ['bench', 'test', 'models', '.'] as const;

/** A browser app: imports nothing from the other folders, and nothing imports it. */
export const ISOLATED = ['console'] as const;

export const SPDX_HEADER = '// SPDX-License-Identifier: MIT';

const sourceExtensions = ['.ts', '.tsx', '.mts', '.cts'];
const codeExtensions = new Set([...sourceExtensions, '.js', '.jsx', '.mjs', '.cjs', '']);
const skippedDirectories = new Set(['node_modules', 'dist']);

export interface ImportRef {
  /** The importing file, relative to the repository root, with forward slashes. */
  file: string;
  /** The module specifier as written. */
  specifier: string;
  /** 1-based line of the import. */
  line: number;
}

export interface Violation {
  file: string;
  specifier: string;
  line: number;
  rule: string;
}

/** Every .ts/.tsx/.mts/.cts file below root (relative paths), skipping dot-folders, node_modules, dist. */
export function sourceFiles(root: string, dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !skippedDirectories.has(entry.name)) {
        files.push(...sourceFiles(root, rel));
      }
    } else if (sourceExtensions.some((e) => entry.name.endsWith(e)) && !entry.name.endsWith('.d.ts')) {
      files.push(rel);
    }
  }
  return files.sort();
}

/**
 * The module specifiers of one file, parsed by the TypeScript compiler: static imports and re-exports
 * (type-only ones too: a type couples layers as much as a value), `import x = require()`, dynamic
 * `import()` and `require()` with a literal argument, and `typeof import('…')` in types.
 */
export function importsOf(file: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const refs: ImportRef[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node !== undefined && ts.isStringLiteralLike(node)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      refs.push({ file, specifier: node.text, line: line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && isImportOrRequire(node.expression)) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

function isImportOrRequire(callee: ts.Expression): boolean {
  return (
    callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')
  );
}

/** The top-level folder of a repository-relative path (`.` for a file at the root). */
export function folderOf(relPath: string): string {
  const slash = relPath.indexOf('/');
  return slash === -1 ? '.' : relPath.slice(0, slash);
}

/**
 * Where a relative specifier lands, relative to the root: undefined for a package (`pg`, `node:fs`),
 * `null` when it leaves the repository.
 */
export function resolveTarget(ref: ImportRef): string | null | undefined {
  if (!ref.specifier.startsWith('./') && !ref.specifier.startsWith('../')) return undefined;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(ref.file), ref.specifier));
  return target.startsWith('../') || target === '..' ? null : target;
}

const layerRank = new Map<string, number>(LAYERS.flatMap((layer, rank) => layer.map((f) => [f, rank])));
const tooling = new Set<string>(TOOLING);
const isolated = new Set<string>(ISOLATED);
const chain = LAYERS.map((layer) => layer.map((f) => `${f}/`).join(', ')).join(' → ');

function isKnown(folder: string): boolean {
  return layerRank.has(folder) || tooling.has(folder) || isolated.has(folder);
}

/** The rule one import breaks, or undefined when it is allowed. */
export function ruleBroken(ref: ImportRef): string | undefined {
  const target = resolveTarget(ref);
  if (target === undefined) return undefined;
  if (target === null) return 'imports from outside the repository';
  const from = folderOf(ref.file);
  const to = folderOf(target);
  if (from === to) return undefined;
  if (!isKnown(from)) return `${from}/ is in no layer: add it to LAYERS in test/support/architecture.ts`;
  if (!isKnown(to)) return `${to}/ is in no layer: add it to LAYERS in test/support/architecture.ts`;
  if (isolated.has(from)) return `${from}/ is a browser app: it imports nothing from ${to}/`;
  if (tooling.has(from)) return undefined;
  if (isolated.has(to)) return `${from}/ may not import ${to}/ (a browser app, served as files)`;
  if (tooling.has(to)) return toolingImport(from, to, target);
  return layerImport(from, to);
}

function toolingImport(from: string, to: string, target: string): string | undefined {
  const isData = !codeExtensions.has(path.posix.extname(target));
  if (to === 'models' && isData) return undefined;
  const what = to === 'models' ? 'only its data files (JSON), not its scripts' : 'nothing: it is tooling';
  return `${from}/ may not import ${to}/: a layer may import ${what}`;
}

function layerImport(from: string, to: string): string | undefined {
  const fromRank = layerRank.get(from)!;
  const toRank = layerRank.get(to)!;
  if (toRank > fromRank) return undefined;
  if (toRank < fromRank) return `${from}/ may not import ${to}/: it is a layer above (${chain})`;
  if (SIDEWAYS_ALLOWED.some((s) => s.from === from && s.to === to)) return undefined;
  return `${from}/ may not import ${to}/: same layer, sideways (${chain})`;
}

/** Every import that breaks a rule. */
export function violations(refs: readonly ImportRef[]): Violation[] {
  return refs.flatMap((ref) => {
    const rule = ruleBroken(ref);
    return rule === undefined ? [] : [{ ...ref, rule }];
  });
}

/** The folder graph: from → to → one import that makes the edge (for the message). */
export function folderGraph(refs: readonly ImportRef[]): Map<string, Map<string, ImportRef>> {
  const graph = new Map<string, Map<string, ImportRef>>();
  for (const ref of refs) {
    const target = resolveTarget(ref);
    if (target === undefined || target === null) continue;
    const from = folderOf(ref.file);
    const to = folderOf(target);
    if (from === to) continue;
    const edges = graph.get(from) ?? new Map<string, ImportRef>();
    if (!edges.has(to)) edges.set(to, ref);
    graph.set(from, edges);
  }
  return graph;
}

/** The folder cycles (strongly connected components of more than one folder), Tarjan's algorithm. */
export function folderCycles(graph: ReadonlyMap<string, ReadonlyMap<string, ImportRef>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return cycles;
}

/** One line per edge inside a cycle, naming the import that makes it. */
export function describeCycle(
  cycle: readonly string[],
  graph: ReadonlyMap<string, ReadonlyMap<string, ImportRef>>,
) {
  const members = new Set(cycle);
  return cycle.flatMap((from) =>
    [...(graph.get(from) ?? new Map<string, ImportRef>()).entries()]
      .filter(([to]) => members.has(to))
      .map(([to, ref]) => `${from}/ → ${to}/: ${ref.file}:${ref.line} imports '${ref.specifier}'`),
  );
}

/** True when the file starts with the licence header (after a `#!` line, which must come first). */
export function hasSpdxHeader(text: string): boolean {
  const lines = text.split('\n', 2);
  const first = lines[0]?.startsWith('#!') ? lines[1] : lines[0];
  return first?.trimEnd() === SPDX_HEADER;
}

/** Every import of every source file below root. */
export function importsOfTree(root: string): ImportRef[] {
  return sourceFiles(root).flatMap((file) => importsOf(file, readFileSync(path.join(root, file), 'utf8')));
}

/**
 * What a Markdown document points at inside the repository: relative link targets (without `#…`), and
 * paths in backticks that start with a top-level folder (`pipelines/runner`, `docs/adr/`). Placeholders
 * (`<…>`, `*`, `…`, `{…}`) and URLs are not paths.
 */
export function documentRefs(
  markdown: string,
  folders: ReadonlySet<string>,
): { links: string[]; paths: string[] } {
  const links = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target));
  const paths = [...markdown.matchAll(/`([A-Za-z0-9_.-]+\/[^`\s]*)`/g)]
    .map((m) => m[1]!)
    .filter((p) => folders.has(p.slice(0, p.indexOf('/'))) && !/[<>*…{}$]/.test(p));
  return { links, paths };
}

/** A path named in a document resolves when it exists as written, as a `.ts` module, or as a folder. */
export function resolvesIn(exists: (p: string) => boolean, base: string, target: string): boolean {
  const p = path.posix.normalize(path.posix.join(base, target));
  return exists(p) || exists(`${p}.ts`);
}

// SPDX-License-Identifier: MIT
// One injected clock drives a stage's handler and its runner: the runner's clock (ms, held messages'
// keep-alive) is read from the same source as the handlers' µs timestamps. Each stage lingers as its place
// on (or off) the listeners' path says.
import { expect, it } from 'vitest';
import { loadConfig } from '../../../config/index.js';
import type { Pool } from '../../../db/index.js';
import { createMetrics, type PipelineContext, stageRunOptions, topology } from '../../../pipelines/index.js';
import { projectionStageLingerMs, stageLingerMs } from '../../../pipelines/limits.js';
import type { SchemaRegistry } from '../../../schemas/index.js';

function context(nowMicros?: () => number): PipelineContext {
  return {
    config: loadConfig({}),
    // Building a handler does no I/O: these are never called here.
    pool: {} as Pool,
    registry: {} as SchemaRegistry,
    js: {} as PipelineContext['js'],
    topology: topology('clocktest'),
    metrics: createMetrics(),
    ...(nowMicros ? { nowMicros } : {}),
  };
}

it("the runner's clock reads the stages' injected µs clock, in ms", () => {
  let micros = 1_700_000_000_123_456;
  const { clock } = stageRunOptions(
    'capture',
    context(() => micros),
  );
  expect(clock?.now()).toBe(1_700_000_000_123.456);
  micros += 2_500_000;
  expect(clock?.now()).toBe(1_700_000_002_623.456);
});

it('without an injected clock the runner reads the system clock (ms since the epoch)', () => {
  const before = Date.now();
  const now = stageRunOptions('capture', context()).clock?.now() ?? Number.NaN;
  const after = Date.now();
  expect(now).toBeGreaterThanOrEqual(before - 1);
  expect(now).toBeLessThanOrEqual(after + 1);
});

it.each([
  ['normalize', 0],
  ['fanout', 0],
  ['fanout-alarm', 0],
  ['alarm', stageLingerMs],
  ['capture', projectionStageLingerMs],
  ['project', projectionStageLingerMs],
  ['geo', projectionStageLingerMs],
] as const)('%s lingers %d ms for a partial batch (ADR 0032, 0035)', (stage, lingerMs) => {
  expect(stageRunOptions(stage, context()).lingerMs).toBe(lingerMs);
});

// SPDX-License-Identifier: MIT
// geo: TMI_NORM → geo_trace + target_position (+ stage_skip for positions that are none), one
// transaction per batch with the checkpoint.
import { withTransaction } from '../db/index.js';
import { insertSkipRows, insertTraceRows, saveCheckpoint, upsertPositionRows } from '../projections/index.js';
import { claimNewEvents, decodeBatch, eventCount, maxSeq } from './batch.js';
import { countReasons, geoRows } from './geo-core.js';
import type { StageDeps, StageHandler } from './types.js';

export function geoStage(deps: StageDeps): StageHandler {
  return {
    stage: 'geo',
    async handle(batch) {
      const { decoded, deadLetters } = await decodeBatch(deps.registry, batch);
      const skipped = await withTransaction(deps.pool, async (client) => {
        const { trace, positions, skips } = geoRows(
          await claimNewEvents(client, deps.checkpointName, decoded),
        );
        await insertTraceRows(client, trace);
        await upsertPositionRows(client, positions);
        await insertSkipRows(client, deps.checkpointName, skips);
        await saveCheckpoint(client, deps.checkpointName, deps.inputStream, maxSeq(batch), trace.length);
        return countReasons(skips);
      });
      return { events: eventCount(decoded), deadLetters, skipped };
    },
  };
}

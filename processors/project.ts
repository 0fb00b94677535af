// SPDX-License-Identifier: MIT
// project: TMI_NORM → ts_obs + target_state + rollups (processors/rollup.ts), one transaction per batch with the checkpoint.
import { withTransaction } from '../db/index.js';
import { insertObsRows, saveCheckpoint, upsertStateRows } from '../projections/index.js';
import { claimNewEvents, decodeBatch, eventCount, maxSeq } from './batch.js';
import { projectRows } from './project-core.js';
import { rollUpInsertedObs } from './rollup.js';
import type { StageDeps, StageHandler } from './types.js';

export function projectStage(deps: StageDeps): StageHandler {
  return {
    stage: 'project',
    async handle(batch) {
      const { decoded, deadLetters } = await decodeBatch(deps.registry, batch);
      await withTransaction(deps.pool, async (client) => {
        const { obs, state } = projectRows(await claimNewEvents(client, deps.checkpointName, decoded));
        const inserted = await insertObsRows(client, obs);
        await upsertStateRows(client, state);
        await rollUpInsertedObs(client, obs, inserted);
        await saveCheckpoint(client, deps.checkpointName, deps.inputStream, maxSeq(batch), obs.length);
      });
      return { events: eventCount(decoded), deadLetters };
    },
  };
}

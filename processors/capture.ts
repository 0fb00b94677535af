// SPDX-License-Identifier: MIT
// capture: TMI_IN → raw_bucket, one transaction per batch with the checkpoint.
import { withTransaction } from '../db/index.js';
import { insertRawRows, saveCheckpoint } from '../projections/index.js';
import { claimNewEvents, decodeWholeBatch, eventCount, maxSeq } from './batch.js';
import { captureRows } from './capture-core.js';
import type { StageDeps, StageHandler } from './types.js';

export function captureStage(deps: StageDeps): StageHandler {
  return {
    stage: 'capture',
    async handle(batch) {
      const { decoded, deadLetters } = await decodeWholeBatch(deps.registry, batch);
      await withTransaction(deps.pool, async (client) => {
        const rows = captureRows(await claimNewEvents(client, deps.checkpointName, decoded));
        await insertRawRows(client, rows);
        await saveCheckpoint(client, deps.checkpointName, deps.inputStream, maxSeq(batch), rows.length);
      });
      return { events: eventCount(decoded), deadLetters };
    },
  };
}

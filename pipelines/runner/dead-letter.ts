// SPDX-License-Identifier: MIT
// A poison message goes to the stage's dead-letter subject, one message at a time, with its error in the
// headers; only then is it acked. The publish carries a message id, so a message dead-lettered twice
// (the process died between publish and ack) is stored once. A publish that fails is a defect: the stage
// crashes and the message, unacked, comes back.
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Effect } from 'effect';
import type { DeadLetter } from '../../processors/index.js';
import type { RunnerContext, RunnerMsg } from './types.js';

/** The dead-letter reason is cut to this many characters (it travels in a header). */
export const deadLetterReasonCharsMax = 1_000;

export function deadLetter(
  ctx: Pick<RunnerContext, 'js' | 'topology' | 'handler' | 'metrics' | 'log'>,
  m: RunnerMsg,
  dead: DeadLetter,
): Effect.Effect<void> {
  const { js, topology, handler, metrics } = ctx;
  const h = natsHeaders();
  h.set('Tmi-Stage', handler.stage);
  h.set('Tmi-Error-Code', dead.code);
  h.set('Tmi-Error', dead.reason.slice(0, deadLetterReasonCharsMax));
  h.set('Tmi-Source-Subject', m.subject);
  h.set('Tmi-Source-Seq', String(m.seq));
  const publish = () =>
    js.publish(topology.dlqSubject(handler.stage), m.data, {
      headers: h,
      msgID: `${m.info.stream}:${m.seq}:${handler.stage}:dlq`,
    });
  return Effect.promise(publish).pipe(
    Effect.zipRight(
      Effect.sync(() => {
        m.ack();
        metrics.stageEventsFailed.inc({ stage: handler.stage, code: dead.code });
        ctx.log('warn', `${handler.stage}: seq ${m.seq} dead-lettered (${dead.code}: ${dead.reason})`);
      }),
    ),
  );
}

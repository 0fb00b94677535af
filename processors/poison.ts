// SPDX-License-Identifier: MIT
// One poison event, not a message. A JetStream message carries a batch of events of one target; when a
// stage refuses a message for good (a permanent error: a constraint, a value PostgreSQL will not store),
// the message is split — halves of its events, offered again — until the refused events stand alone: only
// those go to the stage's dead-letter subject, each as a one-event batch with its error; their neighbours
// are committed as usual. Every stage that consumes event batches is wrapped the same way (pipelines/
// stages.ts), so capture, normalize, project, geo, alarm and fanout all treat a poison event alike.
//
// Replays (`tmictl dlq replay`) put a dead letter back on its source subject marked for ONE stage
// (Tmi-Replay-For); every other stage on that stream sees it as a message with no events, so nothing is
// applied twice anywhere — also where no event ledger would catch it (fanout's listener frames).
import {
  decodeEventBatch,
  type EnvelopeHead,
  type EventEnvelope,
  encodeEventBatch,
} from '../schemas/index.js';
import type {
  DeadLetter,
  OutboundMessage,
  StageHandler,
  StageMessage,
  StageName,
  StageResult,
} from './types.js';

/** Names the one stage a replayed message is for. */
export const replayForHeader = 'Tmi-Replay-For';
/** Set on a replayed message as the other stages see it: its events are not theirs (decode yields none). */
export const replaySkipHeader = 'Tmi-Replay-Skip';
/** Set on the parts of a split message (alarm applies a part of the message at its frontier again). */
export const splitPartHeader = 'Tmi-Split-Part';
/** Dead-letter headers: the event, and where it came from. */
export const deadLetterHeaders = {
  stage: 'Tmi-Stage',
  code: 'Tmi-Error-Code',
  error: 'Tmi-Error',
  sourceSubject: 'Tmi-Source-Subject',
  sourceSeq: 'Tmi-Source-Seq',
  eventId: 'Tmi-Event-Id',
  targetId: 'Tmi-Target-Id',
} as const;
/** Characters of an error kept in a dead letter's header. */
export const deadLetterReasonLengthMax = 1000;

/** A dead letter of one event: published by the wrapper itself, never by the runner. */
export interface EventDeadLetter extends DeadLetter {
  readonly eventId: string;
  readonly targetId: string;
  readonly subject: string;
  /** A one-event EventBatch: what a replay publishes again. */
  readonly body: Uint8Array;
}

export interface Failure {
  readonly permanent: boolean;
  readonly code: string;
  readonly message: string;
}

export interface PoisonDeps {
  /** The stream the stage consumes (part of the dead letter's message id). */
  readonly inputStream: string;
  /** `<ns>.dlq.<stage>`. */
  readonly deadLetterSubject: string;
  /** Publishes and resolves once every PubAck is in. */
  readonly publish: (messages: readonly OutboundMessage[]) => Promise<void>;
  /** Classifies what a stage threw (pipelines/errors.ts): only permanent failures split a message. */
  readonly classify: (err: unknown) => Failure;
  /** Counts a dead-lettered event (tmidb_stage_events_failed_total). */
  readonly onDeadLetter?: (code: string) => void;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export function isEventDeadLetter(d: DeadLetter): d is EventDeadLetter {
  return (d as Partial<EventDeadLetter>).eventId !== undefined;
}

/** The dead letter of one event of `message`, as a one-event batch holding the whole envelope. */
export function eventDeadLetter(
  message: StageMessage,
  envelope: EnvelopeHead,
  code: string,
  reason: string,
): EventDeadLetter {
  return {
    seq: message.seq,
    code,
    reason,
    eventId: envelope.event_id,
    targetId: envelope.target_id,
    subject: message.subject,
    body: encodeEventBatch([wholeEnvelope(message, envelope)]),
  };
}

/** The envelope with its attributes: a stage that read only the heads finds it again in the message. */
function wholeEnvelope(message: StageMessage, envelope: EnvelopeHead): EventEnvelope {
  if ('attrs' in envelope) return envelope as EventEnvelope;
  const whole = envelopesOf(message)?.find((e) => e.event_id === envelope.event_id);
  // The head was read from these very bytes: an event missing from them is a broken invariant.
  if (whole === undefined) throw new Error(`event ${envelope.event_id} is not in message ${message.seq}`);
  return whole;
}

export function isolatePoisonEvents(inner: StageHandler, deps: PoisonDeps): StageHandler {
  const handle = async (batch: readonly StageMessage[]): Promise<StageResult> => {
    const offered = batch.map((m) => asOfferedTo(inner.stage, m));
    let result: StageResult;
    try {
      result = await inner.handle(offered);
    } catch (err) {
      const failure = deps.classify(err);
      if (offered.length !== 1 || !failure.permanent) throw err;
      const m = offered[0]!;
      const envelopes = envelopesOf(m);
      // No event readable: the runner dead-letters the message as it is.
      if (envelopes === undefined || envelopes.length === 0) throw err;
      result =
        envelopes.length === 1
          ? { events: 0, deadLetters: [eventDeadLetter(m, envelopes[0]!, failure.code, failure.message)] }
          : await splitAndRetry(inner, deps, m, envelopes);
    }
    return publishEventDeadLetters(inner.stage, deps, result);
  };
  return {
    stage: inner.stage,
    handle,
    ...(inner.tick ? { tick: () => inner.tick!(), tickIntervalMs: inner.tickIntervalMs } : {}),
    ...(inner.close ? { close: () => inner.close!() } : {}),
  };
}

/** A message replayed for another stage is offered with its events removed (and marked so). */
function asOfferedTo(stage: StageName, m: StageMessage): StageMessage {
  const forStage = m.headers[replayForHeader];
  if (forStage === undefined || forStage === stage) return m;
  return { ...m, body: encodeEventBatch([]), headers: { ...m.headers, [replaySkipHeader]: forStage } };
}

function envelopesOf(m: StageMessage): EventEnvelope[] | undefined {
  try {
    return decodeEventBatch(m.body);
  } catch {
    return undefined;
  }
}

/**
 * Offers halves of the message's events (the whole was refused), recursing into a refused half until
 * a refused event stands alone; it becomes a dead letter. Events keep their order; each part commits alone.
 */
async function splitAndRetry(
  inner: StageHandler,
  deps: PoisonDeps,
  m: StageMessage,
  envelopes: readonly EventEnvelope[],
): Promise<StageResult> {
  const half = Math.ceil(envelopes.length / 2);
  const parts = [envelopes.slice(0, half), envelopes.slice(half)];
  const results: StageResult[] = [];
  for (const part of parts) {
    const asMessage: StageMessage = {
      ...m,
      body: encodeEventBatch(part),
      headers: { ...m.headers, [splitPartHeader]: String(part.length) },
    };
    try {
      results.push(await inner.handle([asMessage]));
    } catch (err) {
      const failure = deps.classify(err);
      if (!failure.permanent) throw err;
      results.push(
        part.length === 1
          ? { events: 0, deadLetters: [eventDeadLetter(m, part[0]!, failure.code, failure.message)] }
          : await splitAndRetry(inner, deps, m, part),
      );
    }
  }
  return mergeResults(results);
}

function mergeResults(results: readonly StageResult[]): StageResult {
  const skipped: Record<string, number> = {};
  const deferred = new Set<number>();
  for (const r of results) {
    for (const [reason, n] of Object.entries(r.skipped ?? {})) skipped[reason] = (skipped[reason] ?? 0) + n;
    for (const seq of r.deferred ?? []) deferred.add(seq);
  }
  return {
    events: results.reduce((n, r) => n + r.events, 0),
    deadLetters: results.flatMap((r) => r.deadLetters),
    ...(deferred.size > 0 ? { deferred: [...deferred] } : {}),
    ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
  };
}

/** A NATS header value: one line, bounded. */
export function headerText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, deadLetterReasonLengthMax);
}

/** Publishes the result's event dead letters; the runner sees (and acks) their messages as committed. */
async function publishEventDeadLetters(
  stage: StageName,
  deps: PoisonDeps,
  result: StageResult,
): Promise<StageResult> {
  const events = result.deadLetters.filter(isEventDeadLetter);
  if (events.length === 0) return result;
  const h = deadLetterHeaders;
  await deps.publish(
    events.map((d) => ({
      subject: deps.deadLetterSubject,
      body: d.body,
      msgID: `${deps.inputStream}:${d.seq}:${d.eventId}:${stage}:dlq`,
      headers: {
        [h.stage]: stage,
        [h.code]: d.code,
        [h.error]: headerText(d.reason),
        [h.sourceSubject]: d.subject,
        [h.sourceSeq]: String(d.seq),
        [h.eventId]: d.eventId,
        [h.targetId]: d.targetId,
      },
    })),
  );
  for (const d of events) {
    deps.onDeadLetter?.(d.code);
    deps.log?.('warn', `${stage}: event ${d.eventId} (seq ${d.seq}) dead-lettered (${d.code}: ${d.reason})`);
  }
  return { ...result, deadLetters: result.deadLetters.filter((d) => !isEventDeadLetter(d)) };
}

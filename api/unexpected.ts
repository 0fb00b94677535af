// SPDX-License-Identifier: MIT
// The problem an error no route anticipated answers: classified by connectors' answerOfUnexpected (by
// SQLSTATE class / JetStream code, never by text), the same answer the NATS speaker gives.
import { answerOfUnexpected } from '../connectors/index.js';
import { type Problem, problem } from './problem.js';

export function problemOfUnexpected(err: unknown, url: string, requestId: string): Problem {
  const a = answerOfUnexpected(err, requestId);
  return problem(a.code, a.detail, url);
}

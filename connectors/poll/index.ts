// SPDX-License-Identifier: MIT
// The poll connector (`type: "poll"`): a URL polled on an interval or cron schedule.
import type { ConnectorKind } from '../runtime/types.js';
import { keepPollSecrets, type PollConfig, parsePollConfig, redactPollConfig } from './config.js';
import { PollSource } from './source.js';

export const pollKind: ConnectorKind<PollConfig> = {
  type: 'poll',
  parse: parsePollConfig,
  redact: redactPollConfig,
  keepSecrets: keepPollSecrets,
  create: (record, config, deps) => new PollSource(record, config, deps),
};

export { numberInText } from './extract.js';
export { refusedAddress } from './guard.js';

// SPDX-License-Identifier: MIT
// `config.target` of a kafka connector: `{id}`, or `{by, key: true | path, create_kind?}`.
import { ConnectorConfigError } from '../runtime/errors.js';
import type { TargetRule } from '../runtime/targets.js';
import { type Members, objectAt, targetAt } from '../runtime/validate.js';

export function parseKafkaTarget(c: Members): {
  rule: TargetRule;
  key: boolean;
  path: string | undefined;
} {
  const t = objectAt(c.target, 'config.target');
  if (t.id !== undefined) return { rule: targetAt(c, 'config', 'path').rule, key: false, path: undefined };
  const { key, ...rest } = t;
  if (key !== undefined && key !== true)
    throw new ConnectorConfigError('config.target.key', 'must be true (or give target.path)');
  if (key === true && rest.path !== undefined) {
    throw new ConnectorConfigError(
      'config.target.key',
      'and config.target.path exclude each other: give one',
    );
  }
  // The shared parser wants a path: the record key stands in as `$key` and is never evaluated.
  const { rule, where } = targetAt(
    { target: key === true ? { ...rest, path: '$key' } : rest },
    'config',
    'path',
  );
  return { rule, key: key === true, path: key === true ? undefined : where };
}

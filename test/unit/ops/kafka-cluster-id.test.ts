// SPDX-License-Identifier: MIT
import { expect, it } from 'vitest';
import { kafkaClusterId } from '../../../ops/kafka.js';

it('a KRaft cluster id is 22 base64url characters and never starts with "-" (the storage tool would read an option)', () => {
  // One id in 64 would start with '-' if left to chance: 5,000 draws meet that case about 78 times.
  const ids = Array.from({ length: 5_000 }, kafkaClusterId);
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  expect(new Set(ids).size).toBe(ids.length);
});

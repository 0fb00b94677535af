// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { freePort, freePorts, isPortFree } from '../../../ops/index.js';

describe('freePorts', () => {
  it('gives distinct ports, every one bindable once it returns', async () => {
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    for (const p of ports) expect(await isPortFree(p)).toBe(true);
  });

  it('never gives a port the caller has already given out', async () => {
    const avoid = await freePorts(3);
    const ports = await freePorts(20, '127.0.0.1', avoid);
    expect(ports).toHaveLength(20);
    expect(ports.filter((p) => avoid.includes(p))).toEqual([]);
  });

  it('asks for none and gets none; one port alone is a valid port', async () => {
    expect(await freePorts(0)).toEqual([]);
    const p = await freePort();
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(65536);
  });
});

// SPDX-License-Identifier: MIT
// A progress bar on stderr: one redrawn line on a terminal, one line per phase otherwise (CI logs).
import { performance } from 'node:perf_hooks';

/** How often a terminal line is redrawn at most. */
export const progressRedrawIntervalMs = 100;
/** Width of the bar in characters. */
export const progressBarWidthChars = 24;

export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private phase = '';
  private phaseStartedMs = 0;
  private lastDrawMs = 0;
  private lineOpen = false;

  constructor(private readonly enabled = true) {}

  /** Starts a phase; `total` is its amount of work in `unit`s (0 = indeterminate). */
  start(phase: string): void {
    this.end();
    this.phase = phase;
    this.phaseStartedMs = performance.now();
    if (!this.enabled) return;
    if (this.tty) this.draw(0, 0, '', true);
    else process.stderr.write(`[bench] ${phase} …\n`);
  }

  /** Reports progress of the current phase: done of total (of unit). */
  update(done: number, total: number, unit = ''): void {
    if (!this.enabled || !this.tty) return;
    const now = performance.now();
    if (now - this.lastDrawMs < progressRedrawIntervalMs && done < total) return;
    this.draw(done, total, unit, false);
  }

  /** Ends the current phase with a short result. */
  end(result?: string): void {
    if (this.phase === '') return;
    const seconds = ((performance.now() - this.phaseStartedMs) / 1000).toFixed(1);
    if (this.enabled) {
      if (this.tty && this.lineOpen) process.stderr.write('\r\x1b[2K');
      process.stderr.write(`[bench] ${this.phase} done in ${seconds} s${result ? ` — ${result}` : ''}\n`);
    }
    this.lineOpen = false;
    this.phase = '';
  }

  /** A line of its own, above the bar. */
  note(text: string): void {
    if (!this.enabled) return;
    if (this.tty && this.lineOpen) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`[bench] ${text}\n`);
    this.lineOpen = false;
  }

  private draw(done: number, total: number, unit: string, force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastDrawMs < progressRedrawIntervalMs && done < total) return;
    this.lastDrawMs = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * progressBarWidthChars);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(progressBarWidthChars - filled)}`;
    const seconds = ((now - this.phaseStartedMs) / 1000).toFixed(1);
    const count = total > 0 ? ` ${fmtCount(done)}/${fmtCount(total)}${unit ? ` ${unit}` : ''}` : '';
    const pct = total > 0 ? `${String(Math.floor(fraction * 100)).padStart(3)}%` : ' …  ';
    process.stderr.write(`\r\x1b[2K[${bar}] ${pct} ${this.phase}${count} ${seconds} s`);
    this.lineOpen = true;
  }
}

function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

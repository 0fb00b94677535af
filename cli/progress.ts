// SPDX-License-Identifier: MIT
// A progress bar on stderr for long CLI operations: one redrawn line on a terminal, a line every
// `progressLineIntervalMs` otherwise (logs), nothing with --json.
/** How often a terminal line is redrawn at most. */
export const progressRedrawIntervalMs = 100;
/** How often a plain (non-terminal) progress line is written. */
export const progressLineIntervalMs = 5_000;
export const progressBarWidthChars = 30;

export class ProgressBar {
  private readonly tty = process.stderr.isTTY === true;
  private readonly startedMs = Date.now();
  private lastMs = 0;
  private open = false;

  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  update(done: number, total: number, detail: string): void {
    const now = Date.now();
    const interval = this.tty ? progressRedrawIntervalMs : progressLineIntervalMs;
    if (!this.enabled || (now - this.lastMs < interval && done < total)) return;
    this.lastMs = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * progressBarWidthChars);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(progressBarWidthChars - filled)}`;
    const line = `${this.label} [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${detail} ${((now - this.startedMs) / 1000).toFixed(1)} s`;
    process.stderr.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
    this.open = this.tty;
  }

  done(): void {
    if (this.open) process.stderr.write('\n');
    this.open = false;
  }
}

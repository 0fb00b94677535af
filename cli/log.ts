// SPDX-License-Identifier: MIT
// Leveled log lines on stderr for the long-running commands (TMIDB_LOG_LEVEL).

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug';
export type Log = (level: LogLevel, msg: string) => void;

const rank: Record<LogLevel, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4 };

export function createLog(threshold: LogLevel, prefix: string, write: (line: string) => void): Log {
  return (level, msg) => {
    if (rank[level] <= rank[threshold]) write(`[${prefix}] ${level === 'info' ? '' : `${level}: `}${msg}`);
  };
}

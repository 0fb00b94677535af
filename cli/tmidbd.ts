#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// tmidbd — the launcher name the systemd unit runs (`tmidbd` = `tmictl up`), so `ps` shows tmiDB.
process.title = 'tmidbd';
process.argv.splice(2, process.argv.length, 'up');
await import('./tmictl.js');

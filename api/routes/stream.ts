// SPDX-License-Identifier: MIT
// GET /tmi/ws without an Upgrade: 426, and the place in the OpenAPI document where the WebSocket
// protocol is described (the gateway itself is api/ws/gateway.ts).
import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from '../problem.js';
import { closeCodes, wsPath } from '../ws/protocol.js';

const protocol = `WebSocket stream of one listener. Open \`${wsPath}\` (Origin checked against TMIDB_WS_ORIGINS; never put a key in the URL), then send:

1. \`{"type":"auth","token":"<API key or token>","listener":"<name>"}\` — \`listener\` may be left out with a listener key;
2. \`{"type":"subscribe"}\` (new events; \`"from":"oldest"\` for everything retained) or \`{"type":"resume","cursor":N}\` (everything after N).

The server answers \`{"type":"ready","listener","cursor"}\` once the stream is attached (every event after it arrives), then
\`{"type":"event"|"alarm","cursor","target_id","ts","event_id","data"}\` with only the subscribed fields, in order.
\`cursor\` is the TMI_LISTEN sequence: remember the last one you processed and resume from it — no gap, no duplicate.
\`{"type":"ping"}\` → \`{"type":"pong"}\`. Before closing, the server sends \`{"type":"error","code","message"}\`.

Close codes: ${Object.entries(closeCodes)
  .map(([name, code]) => `${code} ${name}`)
  .join(', ')}.`;

export function registerStreamRoute(app: FastifyInstance): void {
  app.get(
    wsPath,
    {
      config: { access: 'public' },
      schema: {
        tags: ['stream'],
        summary: 'WebSocket stream of a listener (upgrade required)',
        description: protocol,
        security: [],
        response: {
          426: {
            description: 'Plain HTTP: this endpoint speaks WebSocket only.',
            content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
          },
        },
      },
    },
    async (_req, reply) =>
      sendProblem(
        reply.header('upgrade', 'websocket'),
        problem('UPGRADE_REQUIRED', `${wsPath} speaks WebSocket: connect with a WebSocket client`),
      ),
  );
}

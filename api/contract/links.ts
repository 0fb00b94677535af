// SPDX-License-Identifier: MIT
// OpenAPI links: how one operation's answer feeds the next (create a target → write about it → read it;
// create a listener → mint its key → call its endpoint). Clients and stateful testers (schemathesis)
// follow them; operations are named by `operationIdOf` (document.ts).
import type { SwaggerTransformObject } from '@fastify/swagger';

type Link = {
  readonly operationId: string;
  readonly parameters?: Record<string, string>;
  readonly requestBody?: unknown;
  readonly description: string;
};
type Operation = {
  operationId?: string;
  requestBody?: { required?: boolean };
  responses?: Record<string, { links?: Record<string, Link> }>;
};
type OpenApiPaths = { paths?: Record<string, Record<string, Operation>> };

const targetId = { id: '$response.body#/target_id' };
const writtenTarget = { id: '$request.path.id' };
const listenerName = { listener: '$response.body#/name' };

/** operationId → status → links. */
export const links: Record<string, Record<string, Record<string, Link>>> = {
  postV1Targets: {
    '201': {
      GetTarget: { operationId: 'getV1TargetsId', parameters: targetId, description: 'The new target.' },
      WriteEvents: {
        operationId: 'postV1TargetsIdEvents',
        parameters: targetId,
        description: 'Write events about the new target.',
      },
      ChangeTarget: { operationId: 'patchV1TargetsId', parameters: targetId, description: 'Rename it.' },
      DeleteTarget: { operationId: 'deleteV1TargetsId', parameters: targetId, description: 'Delete it.' },
    },
  },
  postV1TargetsIdEvents: {
    '202': {
      ReadTarget: {
        operationId: 'getV1TargetsId',
        parameters: writtenTarget,
        description: 'The state the write leads to.',
      },
      ReadSeries: { operationId: 'getV1TargetsIdObs', parameters: writtenTarget, description: 'Its series.' },
      ReadTrace: { operationId: 'getV1TargetsIdTrace', parameters: writtenTarget, description: 'Its trace.' },
    },
  },
  postV1Listeners: {
    '201': {
      GetListener: {
        operationId: 'getV1ListenersListener',
        parameters: listenerName,
        description: 'The new listener.',
      },
      MintListenerKey: {
        operationId: 'postV1Keys',
        requestBody: { name: 'listener key', scope: 'listener', listener: '$response.body#/name' },
        description: 'A key for the new listener.',
      },
      ListenerEndpoint: {
        operationId: 'getApiListener',
        parameters: listenerName,
        description: "The listener's own endpoint.",
      },
    },
  },
  postV1Keys: {
    '201': {
      GetKey: {
        operationId: 'getV1KeysId',
        parameters: { id: '$response.body#/key_id' },
        description: 'The key.',
      },
      RevokeKey: {
        operationId: 'deleteV1KeysId',
        parameters: { id: '$response.body#/key_id' },
        description: 'Revoke it.',
      },
    },
  },
};

/** Operations whose body may be left out (@fastify/swagger marks every body required). */
export const optionalBodies: ReadonlySet<string> = new Set(['postV1Tokens']);

/** @fastify/swagger's `transformObject`: adds the links and says which bodies may be left out. */
export const finishDocument: SwaggerTransformObject = (document) => {
  if (!('openapiObject' in document)) return document.swaggerObject;
  const doc = document.openapiObject as OpenApiPaths;
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(ops)) {
      if (op.requestBody && op.operationId && optionalBodies.has(op.operationId))
        op.requestBody.required = false;
      const byStatus = op.operationId ? links[op.operationId] : undefined;
      if (!byStatus) continue;
      for (const [status, named] of Object.entries(byStatus)) {
        const response = op.responses?.[status];
        if (response) response.links = { ...response.links, ...named };
      }
    }
  }
  return document.openapiObject;
};

// SPDX-License-Identifier: MIT
// Files (the seed's §11): PUT streams a body into the bucket and writes one metadata event; a presigned
// PUT plus /complete lets a client upload directly (verified before anything is recorded); GET redirects
// to a short-lived presigned URL for keys that may see the target and its `file` field — anyone else
// gets the same 404 as for a file that does not exist; DELETE (admin) removes object and row.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FileService } from '../../connectors/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import { compileIndex, grantsFor, toSubscription } from '../../processors/index.js';
import { getListenerBy } from '../../projections/index.js';
import { mayWrite, type Principal, principalOfRequest } from '../auth/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { uuidSchema } from './shared.js';

/** File names: no path separators nor control characters. */
const fileNamePattern = '^[^/\\\\\\u0000-\\u001f]{1,255}$';
const fileSchema = {
  type: 'object',
  properties: {
    file_id: uuidSchema,
    name: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    content_type: { type: 'string' },
    event_id: uuidSchema,
  },
} as const;
const targetParams = {
  type: 'object',
  required: ['id', 'name'],
  properties: { id: uuidSchema, name: { type: 'string', pattern: fileNamePattern } },
} as const;
const fileParams = { type: 'object', required: ['file_id'], properties: { file_id: uuidSchema } } as const;

function filesOf(ctx: ApiContext): FileService {
  if (!ctx.files) throw new RequestRejectedError('FILES_DISABLED', 'files need an S3 store (TMIDB_S3_URL)');
  return ctx.files;
}

/** The target's kind when this caller may write it, else the same 404 as an unknown target. */
async function writableTarget(ctx: ApiContext, p: Principal, targetId: string): Promise<string> {
  const kind = (await ctx.targets.kinds([targetId])).get(targetId);
  if (kind === undefined || !mayWrite(p, targetId, kind)) {
    throw new RequestRejectedError('TARGET_NOT_FOUND', `target ${targetId} does not exist`);
  }
  return kind;
}

const speakerOf = (p: Principal) => (p.via === 'anonymous' ? 'http' : p.keyId);
const contentTypeOf = (req: FastifyRequest) =>
  String(req.headers['content-type'] ?? 'application/octet-stream').slice(0, 255);

export function registerFileRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Bodies of these routes are streamed, never buffered: the parser hands the request stream on.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    registerPut(scope, ctx);
  });
  registerPresign(app, ctx);
  registerComplete(app, ctx);
  registerGet(app, ctx);
  registerDelete(app, ctx);
}

function registerPut(app: FastifyInstance, ctx: ApiContext): void {
  app.put<{ Params: { id: string; name: string } }>(
    '/v1/targets/:id/files/:name',
    {
      config: { access: 'speaker' },
      bodyLimit: ctx.config.fileBytesMax,
      schema: {
        tags: ['files'],
        summary: 'Upload a file (streamed) and write its event',
        description:
          'The body (any content type, up to `TMIDB_FILE_BYTES_MAX`) goes to the bucket in parts while its sha256 and size are computed; then one event `{"file": {file_id, name, size, sha256, content_type}}` is written on the target. On any failure the upload is aborted: no object, no part, no event.',
        params: targetParams,
        response: { 201: fileSchema, ...problemResponses(400, 401, 403, 404, 413, 501, 503) },
      },
    },
    async (req, reply) => {
      const p = principalOfRequest(req);
      // Refused before the body was read to its end (too large, no target …): the rest of it is not
      // read either, so the connection closes after the answer instead of waiting for it.
      reply.header('connection', 'close');
      await writableTarget(ctx, p, req.params.id);
      const info = await filesOf(ctx).upload(
        ctx,
        speakerOf(p),
        req.params.id,
        req.params.name,
        contentTypeOf(req),
        // No body at all (no Content-Type either): an empty file.
        req.body instanceof Readable ? req.body : Readable.from([]),
      );
      reply.removeHeader('connection');
      return reply.code(201).send(info);
    },
  );
}

function registerPresign(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string }; Body: { name: string; content_type?: string } }>(
    '/v1/targets/:id/files',
    {
      config: { access: 'speaker' },
      schema: {
        tags: ['files'],
        summary: 'Start a direct upload: a short-lived presigned PUT URL',
        description:
          'PUT the file to `upload_url` (with the same Content-Type), then POST /v1/files/{file_id}/complete with its size and sha256.',
        params: { type: 'object', required: ['id'], properties: { id: uuidSchema } },
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: fileNamePattern },
            content_type: { type: 'string', minLength: 1, maxLength: 255 },
          },
        },
        response: {
          201: { type: 'object', additionalProperties: true },
          ...problemResponses(400, 401, 403, 404, 501),
        },
      },
    },
    async (req, reply) => {
      await writableTarget(ctx, principalOfRequest(req), req.params.id);
      const r = await filesOf(ctx).presign(
        req.params.id,
        req.body.name,
        req.body.content_type ?? 'application/octet-stream',
      );
      return reply.code(201).send(r);
    },
  );
}

function registerComplete(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { file_id: string }; Body: { size: number; sha256: string } }>(
    '/v1/files/:file_id/complete',
    {
      config: { access: 'speaker' },
      schema: {
        tags: ['files'],
        summary: 'Verify a direct upload (size, sha256) and write its event',
        description: 'A mismatch answers 422 FILE_MISMATCH and removes the object: nothing is recorded.',
        params: fileParams,
        body: {
          type: 'object',
          required: ['size', 'sha256'],
          additionalProperties: false,
          properties: {
            size: { type: 'integer', minimum: 0 },
            sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
          },
        },
        response: { 201: fileSchema, ...problemResponses(400, 401, 403, 404, 422, 501, 503) },
      },
    },
    async (req, reply) => {
      const p = principalOfRequest(req);
      const info = await filesOf(ctx).complete(ctx, speakerOf(p), req.params.file_id, req.body, async (id) =>
        writableTarget(ctx, p, id).then(
          () => true,
          () => false,
        ),
      );
      return reply.code(201).send(info);
    },
  );
}

/** May this caller see the target and its `file` field? Admins yes; listener keys by their subscriptions. */
async function maySeeFile(ctx: ApiContext, p: Principal, targetId: string): Promise<boolean> {
  if (p.scope === 'admin') return true;
  const { rows } = await ctx.pool.query<{ kind: string; meta: Record<string, unknown> }>(
    'SELECT kind, meta FROM tmi.target WHERE target_id = $1',
    [targetId],
  );
  const target = rows[0];
  if (!target) return false;
  if (p.scope === 'speaker') return mayWrite(p, targetId, target.kind);
  if (p.scope !== 'listener' || p.listenerId === null) return false;
  const listener = await getListenerBy(ctx.pool, 'id', p.listenerId);
  if (!listener) return false;
  const index = compileIndex(listener.subscriptions.map(toSubscription));
  const grant = grantsFor(index, { targetId, kind: target.kind, meta: target.meta })[0];
  return grant !== undefined && (grant.fields === null || grant.fields.has('file'));
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { file_id: string } }>(
    '/v1/files/:file_id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['files'],
        summary: 'Download a file: a redirect to a short-lived presigned URL',
        description:
          'For keys that may see the target and its `file` field; anyone else gets the same 404 as for a file that does not exist.',
        params: fileParams,
        response: {
          302: { type: 'null', description: 'Location: the presigned URL' },
          ...problemResponses(400, 401, 404, 501),
        },
      },
    },
    async (req, reply) => {
      const files = filesOf(ctx);
      const f = await files.get(req.params.file_id);
      if (!f || !(await maySeeFile(ctx, principalOfRequest(req), f.target_id))) {
        throw new RequestRejectedError('FILE_NOT_FOUND', `no file ${req.params.file_id}`);
      }
      return reply.redirect(await files.downloadUrl(f), 302);
    },
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { file_id: string } }>(
    '/v1/files/:file_id',
    {
      schema: {
        tags: ['files'],
        summary: 'Delete a file (object and record)',
        description: 'Its event stays in the stream and raw_bucket (the audit trail); the object is gone.',
        params: fileParams,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problemResponses(400, 401, 403, 404, 501),
        },
      },
    },
    async (req, reply) => {
      if (!(await filesOf(ctx).remove(req.params.file_id))) {
        throw new RequestRejectedError('FILE_NOT_FOUND', `no file ${req.params.file_id}`);
      }
      return reply.code(204).send();
    },
  );
}

// SPDX-License-Identifier: MIT
// OpenAPI of GET /v1/targets/{id}/obs?points=N (server-side downsampling for charts).
import { downsamplePointsMax, downsamplePointsMin } from '../../projections/index.js';

export const obsPointsParamSchema = {
  type: 'integer',
  minimum: downsamplePointsMin,
  maximum: downsamplePointsMax,
  description:
    'Downsample for a chart: at most this many points per field (twice the chart width in pixels is right). ' +
    '[from, to) is cut into at most points/2 equal columns (of a minute or more: whole minutes or hours on the ' +
    'bucket grid, read from the rollups) and each keeps its lowest and highest numeric value ' +
    '(earliest on ties), so every spike stays visible. Needs `fields`; not with `bucket`, `agg`, `after` or ' +
    '`order=desc`. Without `from`, the last 24 h; without `to`, now. Non-numeric values are left out.',
} as const;

export const obsSeriesSchema = {
  type: 'object',
  description:
    'Downsampled mode: per requested field, its points in time order, columnar (`ts[i]` goes with `value[i]`).',
  additionalProperties: {
    type: 'object',
    required: ['ts', 'value'],
    properties: {
      ts: { type: 'array', items: { type: 'string', format: 'date-time' } },
      value: { type: 'array', items: { type: 'number' } },
    },
  },
} as const;

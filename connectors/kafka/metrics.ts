// SPDX-License-Identifier: MIT
// Consumer lag per partition of each kafka connector this process runs (served at /metrics).
import { Gauge, type Registry } from 'prom-client';

const byRegistry = new WeakMap<Registry, Gauge<'connector' | 'topic' | 'partition'>>();

export function kafkaLagGauge(registry: Registry): Gauge<'connector' | 'topic' | 'partition'> {
  let g = byRegistry.get(registry);
  if (!g) {
    g = new Gauge({
      name: 'tmidb_connector_kafka_lag_records',
      help: 'Records of a partition not yet emitted by a kafka connector (high watermark − next offset), as of its last batch.',
      labelNames: ['connector', 'topic', 'partition'],
      registers: [registry],
    });
    byRegistry.set(registry, g);
  }
  return g;
}

const sinkByRegistry = new WeakMap<Registry, Gauge<'connector'>>();

/** Messages of a listener's stream a kafka sink has not produced yet, as of its last batch. */
export function kafkaSinkLagGauge(registry: Registry): Gauge<'connector'> {
  let g = sinkByRegistry.get(registry);
  if (!g) {
    g = new Gauge({
      name: 'tmidb_listener_sink_kafka_lag_messages',
      help: "Messages of a listener's stream not yet produced to Kafka by its kafka_sink, as of its last batch.",
      labelNames: ['connector'],
      registers: [registry],
    });
    sinkByRegistry.set(registry, g);
  }
  return g;
}

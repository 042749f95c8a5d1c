// Package kafka is the engine's seam to Kafka: a small interface of what
// the engine needs from a client (consume as a group member, produce,
// transactions that carry the consumed offsets, topic administration) and
// two implementations of it, franz-go (the default, pure Go) and librdkafka
// through confluent-kafka-go (for platforms that mandate it), chosen per app
// with spec.config.kafkaClient.
//
// It knows nothing of manifests, code blocks, tables or HTTP: it moves
// records. Package kafkatest starts an in-process Kafka-protocol broker
// (kfake) on a loopback port for tests and for `weir dev`.
package kafka

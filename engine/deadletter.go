package engine

import (
	"errors"
	"strconv"
	"time"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/interp"
)

// The headers a dead letter carries besides the input record's own.
const (
	HeaderError           = "weir-error"
	HeaderOperation       = "weir-operation"
	HeaderSourceTopic     = "weir-source-topic"
	HeaderSourcePartition = "weir-source-partition"
	HeaderSourceOffset    = "weir-source-offset"
)

// deadLetter sends the input record (its key, value and headers as
// consumed) to the agent's dead-letter topic, in the transaction in flight,
// with headers that say what failed, and logs it (rate-limited).
func (w *worker) deadLetter(ag *agentRun, r *kafka.Record, err error) {
	txn := w.txn
	w.txn = true
	w.sendDeadLetter(ag, r, err)
	w.txn = txn
}

// sendDeadLetter sends r to the agent's dead-letter topic with the headers
// that say what failed, and extra ones, and logs it (rate-limited).
func (w *worker) sendDeadLetter(ag *agentRun, r *kafka.Record, err error, extra ...kafka.Header) {
	op := ""
	var se *stepError
	if errors.As(err, &se) {
		op, err = se.op, se.err
	}
	msg := err.Error()
	var ie *interp.Error
	if errors.As(err, &ie) {
		msg = ie.Error()
		ag.codeFailure(msg)
	}
	hs := make([]kafka.Header, 0, len(r.Headers)+5+len(extra))
	hs = append(hs, r.Headers...)
	hs = append(hs,
		kafka.Header{Key: HeaderError, Value: []byte(msg)},
		kafka.Header{Key: HeaderOperation, Value: []byte(op)},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(r.Topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(r.Partition), 10)},
		kafka.Header{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, r.Offset, 10)},
	)
	hs = append(hs, extra...)
	w.produce(&kafka.Record{
		Topic:     ag.plan.DeadLetterTopic,
		Partition: -1,
		Key:       r.Key,
		Value:     r.Value,
		Headers:   hs,
		Timestamp: r.Timestamp,
	}, w.doneFunc())
	ag.deadLetters.Add(1)
	if ok, dropped := ag.limiter.Allow(time.Now()); ok {
		ag.log.Warn("record sent to the dead-letter topic",
			"operation", op, "error", msg, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset,
			"dead_letter_topic", ag.plan.DeadLetterTopic, "suppressed", dropped)
	}
}

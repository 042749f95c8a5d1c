package franz

import "github.com/twmb/franz-go/pkg/kgo"

// partitioner places a record with Partition >= 0 on that partition and
// lets kgo's default partitioner choose for the others (Partition -1). The
// default, UniformBytesPartitioner with keys hashed by murmur2 (kgo's own
// default), puts a keyed record where the Java client does, murmur2(key) &
// 0x7fffffff % partitions, and spreads keyless records the way the Java
// client has since KIP-794 (sticky batches of about 64 KiB, preferring the
// less loaded partitions).
type partitioner struct{ def kgo.Partitioner }

func newPartitioner() kgo.Partitioner {
	return partitioner{def: kgo.UniformBytesPartitioner(64<<10, true, true, nil)}
}

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	def := p.def.ForTopic(topic)
	backup, _ := def.(kgo.TopicBackupPartitioner)
	return &topicPartitioner{def: def, backup: backup}
}

// topicPartitioner is used by one record at a time (kgo guarantees it).
type topicPartitioner struct {
	def    kgo.TopicPartitioner
	backup kgo.TopicBackupPartitioner // def, if it partitions by backup
}

var _ kgo.TopicBackupPartitioner = (*topicPartitioner)(nil)

// RequiresConsistency: a chosen partition must be that partition (kgo then
// partitions over all partitions, not only the writable ones, so the index it
// returns is the partition number), as must a keyed record's.
func (p *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return r.Partition >= 0 || p.def.RequiresConsistency(r)
}

func (p *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 {
		return int(r.Partition) // kgo fails the record if it is >= n
	}
	return p.def.Partition(r, n)
}

func (p *topicPartitioner) PartitionByBackup(r *kgo.Record, n int, it kgo.TopicBackupIter) int {
	if r.Partition >= 0 {
		return int(r.Partition)
	}
	if p.backup != nil {
		return p.backup.PartitionByBackup(r, n, it)
	}
	return p.def.Partition(r, n)
}

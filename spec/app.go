package spec

import "strings"

// KasprApp is an application: its Kafka connection and settings. Every other
// resource binds to one app.
type KasprApp struct {
	Object `yaml:",inline"`
	Spec   KasprAppSpec `yaml:"spec"`
}

// KasprAppSpec is the desired settings of an app. Version, Replicas, Image,
// Resources, Storage, Template, PythonPackages and the probes are Kubernetes
// deployment fields: kept and validated, not used by the runtime.
type KasprAppSpec struct {
	Version          string          `yaml:"version,omitempty"`
	Replicas         int             `yaml:"replicas"`
	Image            string          `yaml:"image,omitempty"`
	BootstrapServers string          `yaml:"bootstrapServers"`
	TLS              *TLS            `yaml:"tls,omitempty"`
	Authentication   *Authentication `yaml:"authentication,omitempty"`
	Resources        map[string]any  `yaml:"resources,omitempty"`
	Storage          *Storage        `yaml:"storage,omitempty"`
	Template         map[string]any  `yaml:"template,omitempty"`
	PythonPackages   map[string]any  `yaml:"pythonPackages,omitempty"`
	LivenessProbe    *Probe          `yaml:"livenessProbe,omitempty"`
	ReadinessProbe   *Probe          `yaml:"readinessProbe,omitempty"`
	Config           KasprAppConfig  `yaml:"config"`
}

// TLS turns on TLS to the brokers. An empty TLS uses the system's roots.
type TLS struct {
	CAFile             string `yaml:"caFile,omitempty"`
	CertFile           string `yaml:"certFile,omitempty"`
	KeyFile            string `yaml:"keyFile,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecureSkipVerify"`
}

// Authentication is SASL authentication to the brokers.
type Authentication struct {
	Type           string          `yaml:"type"`
	Username       string          `yaml:"username,omitempty"`
	PasswordSecret *PasswordSecret `yaml:"passwordSecret,omitempty"`
	PasswordFile   string          `yaml:"passwordFile,omitempty"`
}

// PasswordSecret names a Kubernetes secret key holding a password.
type PasswordSecret struct {
	SecretName  string `yaml:"secretName"`
	PasswordKey string `yaml:"passwordKey"`
}

// Storage is the disk of each instance in Kubernetes.
type Storage struct {
	Type        string `yaml:"type"`
	Class       string `yaml:"class,omitempty"`
	Size        string `yaml:"size,omitempty"`
	DeleteClaim bool   `yaml:"deleteClaim"`
}

// Probe is a Kubernetes probe's settings.
type Probe struct {
	FailureThreshold    int `yaml:"failureThreshold,omitempty"`
	InitialDelaySeconds int `yaml:"initialDelaySeconds,omitempty"`
	PeriodSeconds       int `yaml:"periodSeconds,omitempty"`
	SuccessThreshold    int `yaml:"successThreshold,omitempty"`
	TimeoutSeconds      int `yaml:"timeoutSeconds,omitempty"`
}

// KasprAppConfig is spec.config: the keys weir understands, with their
// defaults applied, and every other key in Extra.
type KasprAppConfig struct {
	TopicReplicationFactor int    `yaml:"topicReplicationFactor"`
	TopicPartitions        int    `yaml:"topicPartitions"`
	TopicAllowDeclare      bool   `yaml:"topicAllowDeclare"`
	KeySerializer          string `yaml:"keySerializer"`
	ValueSerializer        string `yaml:"valueSerializer"`
	WebPort                int    `yaml:"webPort"`
	WebBasePath            string `yaml:"webBasePath"`
	WebMetricsBasePath     string `yaml:"webMetricsBasePath"`
	TableDir               string `yaml:"tableDir,omitempty"`

	SchedulerEnabled                                 bool    `yaml:"schedulerEnabled"`
	SchedulerDebugStatsEnabled                       bool    `yaml:"schedulerDebugStatsEnabled"`
	SchedulerTopicPartitions                         int     `yaml:"schedulerTopicPartitions,omitempty"`
	SchedulerCheckpointSaveIntervalSeconds           float64 `yaml:"schedulerCheckpointSaveIntervalSeconds"`
	SchedulerDispatcherDefaultCheckpointLookbackDays int     `yaml:"schedulerDispatcherDefaultCheckpointLookbackDays"`
	SchedulerDispatcherCheckpointInterval            float64 `yaml:"schedulerDispatcherCheckpointInterval"`
	SchedulerJanitorCheckpointInterval               float64 `yaml:"schedulerJanitorCheckpointInterval"`
	SchedulerJanitorCleanIntervalSeconds             float64 `yaml:"schedulerJanitorCleanIntervalSeconds"`
	SchedulerJanitorHighwaterOffsetSeconds           float64 `yaml:"schedulerJanitorHighwaterOffsetSeconds"`

	StoreRocksdbWriteBufferSize              int64 `yaml:"storeRocksdbWriteBufferSize"`
	StoreRocksdbMaxWriteBufferNumber         int   `yaml:"storeRocksdbMaxWriteBufferNumber"`
	StoreRocksdbTargetFileSizeBase           int64 `yaml:"storeRocksdbTargetFileSizeBase"`
	StoreRocksdbBlockCacheSize               int64 `yaml:"storeRocksdbBlockCacheSize,omitempty"`
	StoreRocksdbBlockCacheCompressedSize     int64 `yaml:"storeRocksdbBlockCacheCompressedSize"`
	StoreRocksdbBloomFilterSize              int   `yaml:"storeRocksdbBloomFilterSize"`
	StoreRocksdbSetCacheIndexAndFilterBlocks bool  `yaml:"storeRocksdbSetCacheIndexAndFilterBlocks"`

	ProcessingGuarantee string            `yaml:"processingGuarantee"`
	KafkaClient         string            `yaml:"kafkaClient"`
	Kafka               map[string]string `yaml:"kafka,omitempty"`
	DeadLetterTopic     string            `yaml:"deadLetterTopic,omitempty"`
	CodeMaxSteps        int64             `yaml:"codeMaxSteps"`
	CodeTimeout         Duration          `yaml:"codeTimeout"`

	// Extra holds the keys weir does not know. They are kept, not used.
	Extra map[string]any `yaml:",inline"`
}

// Values of processingGuarantee and kafkaClient.
const (
	ExactlyOnce   = "exactly_once"
	AtLeastOnce   = "at_least_once"
	ClientFranz   = "franz"
	ClientRdkafka = "librdkafka"
)

// ID is the app id, which is also its Kafka consumer group: <name>-app.
func (a *KasprApp) ID() string { return a.Metadata.Name + "-app" }

func (c *checker) checkAppSpec(a *KasprApp) {
	s := &a.Spec
	if t := s.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		set, missing := "certFile", "keyFile"
		if t.CertFile == "" {
			set, missing = missing, set
		}
		c.add(a, "spec.tls."+set, "%s needs %s beside it for mutual TLS", set, missing)
	}
	cfg := &s.Config
	c.checkDuration(a, "spec.config.codeTimeout", cfg.CodeTimeout)
	if cfg.DeadLetterTopic != "" {
		c.checkTopicName(a, "spec.config.deadLetterTopic", cfg.DeadLetterTopic)
	}
	for _, p := range []struct{ path, value string }{
		{"spec.config.webBasePath", cfg.WebBasePath},
		{"spec.config.webMetricsBasePath", cfg.WebMetricsBasePath},
	} {
		if p.value != "" && !strings.HasPrefix(p.value, "/") {
			c.add(a, p.path, "expected a path starting with \"/\", found %q", p.value)
		}
	}
}

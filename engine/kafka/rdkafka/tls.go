package rdkafka

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	ck "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/weirstream/weir/engine/kafka"
)

// setTLS maps the seam's TLS onto librdkafka's ssl.* properties, after
// checking the PEM here so that the error names the part that is wrong
// (librdkafka's own does not always).
func setTLS(m ck.ConfigMap, t *kafka.TLS) error {
	if t.CAPEM != nil {
		if err := checkCerts(t.CAPEM); err != nil {
			return fmt.Errorf("rdkafka: TLS CA: %w", err)
		}
		m["ssl.ca.pem"] = string(t.CAPEM)
	}
	switch {
	case t.CertPEM == nil && t.KeyPEM == nil:
	case t.KeyPEM == nil:
		return errors.New("rdkafka: TLS client certificate without its key")
	case t.CertPEM == nil:
		return errors.New("rdkafka: TLS client key without its certificate")
	default:
		if err := checkCerts(t.CertPEM); err != nil {
			return fmt.Errorf("rdkafka: TLS client certificate: %w", err)
		}
		// The certificate parses: what X509KeyPair finds wrong is the key
		// (missing, unparsable, or not the certificate's).
		if _, err := tls.X509KeyPair(t.CertPEM, t.KeyPEM); err != nil {
			return fmt.Errorf("rdkafka: TLS client key: %w", err)
		}
		m["ssl.certificate.pem"] = string(t.CertPEM)
		m["ssl.key.pem"] = string(t.KeyPEM)
	}
	if t.InsecureSkipVerify {
		m["enable.ssl.certificate.verification"] = false
	}
	return nil
}

// checkCerts checks the CERTIFICATE blocks in PEM data (other blocks are
// skipped, as a combined certificate and key file has them): at least one,
// and each must parse.
func checkCerts(data []byte) error {
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		n++
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %w", n, err)
		}
	}
	if n == 0 {
		return errors.New("no PEM certificate found")
	}
	return nil
}

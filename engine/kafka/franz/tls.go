package franz

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/weirstream/weir/engine/kafka"
)

// tlsConfig builds the dialer's *tls.Config from the seam's PEM contents.
// kgo sets ServerName from the broker's host.
func tlsConfig(t *kafka.TLS) (*tls.Config, error) {
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: t.InsecureSkipVerify, // the app's choice
	}
	if t.CAPEM != nil {
		cas, err := parseCerts(t.CAPEM)
		if err != nil {
			return nil, fmt.Errorf("kafka: TLS CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		for _, ca := range cas {
			c.RootCAs.AddCert(ca)
		}
	}
	switch {
	case t.CertPEM == nil && t.KeyPEM == nil:
	case t.KeyPEM == nil:
		return nil, errors.New("kafka: TLS client certificate without its key")
	case t.CertPEM == nil:
		return nil, errors.New("kafka: TLS client key without its certificate")
	default:
		if _, err := parseCerts(t.CertPEM); err != nil {
			return nil, fmt.Errorf("kafka: TLS client certificate: %w", err)
		}
		// The certificate parses: what X509KeyPair finds wrong is the key
		// (missing, unparsable, or not the certificate's).
		cert, err := tls.X509KeyPair(t.CertPEM, t.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("kafka: TLS client key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// parseCerts returns the certificates of the CERTIFICATE blocks in PEM
// data (other blocks are skipped, as a combined certificate and key file
// has them): at least one, and each must parse.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return certs, nil
}

package rdkafka

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
)

// testCA is a CA generated for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "weir test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue makes a certificate signed by the CA, for a broker on the loopback
// (server) or a client, and returns it for kfake and as PEM.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (cert tls.Certificate, certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}

// connects reports whether an admin with cfg can describe a topic.
func connects(t *testing.T, ctx context.Context, cfg kafka.Config) bool {
	t.Helper()
	adm, err := New().NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = adm.DescribeTopics(actx, []string{"sec"})
	return err == nil
}

func TestTLS(t *testing.T) {
	ctx := testCtx(t)
	ca, other := newCA(t), newCA(t)
	server, _, _ := ca.issue(t, "broker", true)
	b := kafkatest.New(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{server}, MinVersion: tls.VersionTLS12}))

	// A client trusting the CA works.
	good := config(b)
	good.TLS = &kafka.TLS{CAPEM: ca.pem}
	roundTripVia(t, ctx, good)

	// One trusting another CA fails, unless it verifies nothing.
	untrusting := config(b)
	untrusting.TLS = &kafka.TLS{CAPEM: other.pem}
	if connects(t, ctx, untrusting) {
		t.Error("a client that does not trust the broker's CA connected")
	}
	untrusting.TLS = &kafka.TLS{CAPEM: other.pem, InsecureSkipVerify: true}
	if !connects(t, ctx, untrusting) {
		t.Error("a client skipping verification did not connect")
	}
}

func TestMutualTLS(t *testing.T) {
	ctx := testCtx(t)
	ca := newCA(t)
	server, _, _ := ca.issue(t, "broker", true)
	_, certPEM, keyPEM := ca.issue(t, "weir", false)
	b := kafkatest.New(t, kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.pool(),
		MinVersion:   tls.VersionTLS12,
	}))

	good := config(b)
	good.TLS = &kafka.TLS{CAPEM: ca.pem, CertPEM: certPEM, KeyPEM: keyPEM}
	roundTripVia(t, ctx, good)

	anonymous := config(b)
	anonymous.TLS = &kafka.TLS{CAPEM: ca.pem}
	if connects(t, ctx, anonymous) {
		t.Error("a client without a certificate connected to a broker requiring one")
	}
}

// Bad PEM fails the client's creation with an error naming the part.
func TestTLSBadPEM(t *testing.T) {
	ca := newCA(t)
	_, certPEM, keyPEM := ca.issue(t, "weir", false)
	_, _, otherKey := ca.issue(t, "other", false)
	corrupt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	for _, c := range []struct {
		name string
		tls  kafka.TLS
		want string
	}{
		{"CA not PEM", kafka.TLS{CAPEM: []byte("not PEM")}, "TLS CA: no PEM certificate"},
		{"CA empty", kafka.TLS{CAPEM: []byte{}}, "TLS CA: no PEM certificate"},
		{"CA not a certificate", kafka.TLS{CAPEM: keyPEM}, "TLS CA: no PEM certificate"},
		{"CA corrupt", kafka.TLS{CAPEM: bytes.Join([][]byte{ca.pem, corrupt}, nil)}, "TLS CA: certificate 2"},
		{"certificate not PEM", kafka.TLS{CertPEM: []byte("not PEM"), KeyPEM: keyPEM}, "TLS client certificate: no PEM certificate"},
		{"certificate corrupt", kafka.TLS{CertPEM: corrupt, KeyPEM: keyPEM}, "TLS client certificate: certificate 1"},
		{"key not PEM", kafka.TLS{CertPEM: certPEM, KeyPEM: []byte("not PEM")}, "TLS client key"},
		{"key is a certificate", kafka.TLS{CertPEM: certPEM, KeyPEM: certPEM}, "TLS client key"},
		{"key of another certificate", kafka.TLS{CertPEM: certPEM, KeyPEM: otherKey}, "TLS client key"},
		{"certificate without key", kafka.TLS{CertPEM: certPEM}, "TLS client certificate without its key"},
		{"key without certificate", kafka.TLS{KeyPEM: keyPEM}, "TLS client key without its certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := kafka.Config{Brokers: []string{"127.0.0.1:1"}, TLS: &c.tls}
			check := func(what string, err error) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: error %v, want one containing %q", what, err, c.want)
				}
			}
			_, err := New().NewAdmin(cfg)
			check("admin", err)
			_, err = New().NewProducer(cfg)
			check("producer", err)
			_, err = New().NewSession(kafka.SessionConfig{Config: cfg, Guarantee: kafka.ExactlyOnce, Group: "g", TransactionalID: "t", Topics: []string{"t"}})
			check("session", err)
		})
	}

	// A certificate and key in one file, given as both, is fine.
	both := bytes.Join([][]byte{certPEM, keyPEM}, nil)
	adm, err := New().NewAdmin(kafka.Config{Brokers: []string{"127.0.0.1:1"}, TLS: &kafka.TLS{CAPEM: ca.pem, CertPEM: both, KeyPEM: both}})
	if err != nil {
		t.Fatalf("certificate and key in one PEM: %v", err)
	}
	adm.Close()
}

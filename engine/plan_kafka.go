package engine

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/weirstream/weir/engine/kafka"
	"github.com/weirstream/weir/spec"
)

// saslMechanisms maps authentication.type to the SASL mechanism.
var saslMechanisms = map[string]string{
	"plain":         "PLAIN",
	"scram-sha-256": "SCRAM-SHA-256",
	"scram-sha-512": "SCRAM-SHA-512",
}

// connection fills in the app's Kafka connection and identity.
func (a *appCompiler) connection() {
	ka := a.app.App
	s := &ka.Spec
	p := a.plan
	p.Kafka = kafka.Config{
		Brokers:  splitList(s.BootstrapServers),
		ClientID: "weir-" + ka.Name(),
		Extra:    maps.Clone(s.Config.Kafka),
	}
	if s.TLS != nil {
		p.Kafka.TLS = a.tls(s.TLS)
	}
	if s.Authentication != nil {
		p.Kafka.SASL = a.sasl(s.Authentication)
	}
	if p.Guarantee == kafka.ExactlyOnce {
		instance := a.opts.InstanceID
		if instance == "" {
			instance = DefaultInstanceID
		}
		p.TransactionalID = p.ID + "-" + instance
	}
}

// tls reads the PEM files of spec.tls and checks that they hold what they
// should.
func (a *appCompiler) tls(t *spec.TLS) *kafka.TLS {
	out := &kafka.TLS{InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		if data, ok := a.readFile("spec.tls.caFile", t.CAFile); ok {
			if !x509.NewCertPool().AppendCertsFromPEM(data) {
				a.errorf(a.app.App, "spec.tls.caFile", "%q holds no PEM certificate", t.CAFile)
			}
			out.CAPEM = data
		}
	}
	if t.CertFile != "" && t.KeyFile != "" {
		cert, certOK := a.readFile("spec.tls.certFile", t.CertFile)
		key, keyOK := a.readFile("spec.tls.keyFile", t.KeyFile)
		if certOK && keyOK {
			if _, err := tls.X509KeyPair(cert, key); err != nil {
				a.errorf(a.app.App, "spec.tls.certFile", "%q and %q are not a certificate and its key: %s", t.CertFile, t.KeyFile, strings.TrimPrefix(err.Error(), "tls: "))
			}
		}
		out.CertPEM, out.KeyPEM = cert, key
	}
	return out
}

// sasl resolves spec.authentication, password included.
func (a *appCompiler) sasl(au *spec.Authentication) *kafka.SASL {
	out := &kafka.SASL{Mechanism: saslMechanisms[au.Type], User: au.Username}
	switch {
	case au.PasswordFile != "":
		const path = "spec.authentication.passwordFile"
		data, ok := a.readFile(path, au.PasswordFile)
		if !ok {
			break
		}
		out.Password = strings.TrimRight(string(data), "\r\n")
		if out.Password == "" {
			a.errorf(a.app.App, path, "%q is empty: it should hold the password", au.PasswordFile)
		}
	case a.opts.Env(PasswordEnv) != "":
		out.Password = a.opts.Env(PasswordEnv)
	default:
		a.keyErrorf(a.app.App, "spec.authentication",
			"no password for %s user %q: set passwordFile, or the environment variable %s (passwordSecret is for Kubernetes, where the operator injects the secret as %s)",
			out.Mechanism, au.Username, PasswordEnv, PasswordEnv)
	}
	return out
}

// readFile reads a file named at path of the app, relative to the
// manifest's folder. A failure is reported at path.
func (a *appCompiler) readFile(path, name string) ([]byte, bool) {
	full := name
	if !filepath.IsAbs(name) {
		full = filepath.Join(filepath.Dir(a.app.App.File()), name)
	}
	data, err := a.opts.ReadFile(full)
	if err != nil {
		a.errorf(a.app.App, path, "cannot read %q: %s", name, fileProblem(err))
		return nil, false
	}
	return data, true
}

// fileProblem says why a file could not be read, without repeating its name.
func fileProblem(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

var kafkaNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// validKafkaName reports whether s is a legal topic name or group instance
// id.
func validKafkaName(s string) bool {
	return kafkaNameRE.MatchString(s) && s != "." && s != ".."
}

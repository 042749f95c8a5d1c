package control

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/weirstream/weir/spec"
)

// Redacted stands in for a secret in what the API returns.
const Redacted = "<redacted>"

// secretWords mark a setting whose value is a secret: SASL passwords and
// JAAS configs, keys, tokens and client secrets of spec.config.kafka, and
// the like wherever they are written.
var secretWords = []string{"password", "secret", "jaas", "token", "credential", "private", "key.pem", "oauthbearer.config", "apikey", "api.key"}

// notSecret are settings whose names hold such a word but whose values
// name where a secret is, not the secret: files, Kubernetes secret names
// and keys.
var notSecret = []string{"passwordfile", "passwordsecret", "passwordkey", "secretname", "keyfile", "certfile", "cafile"}

func isSecret(key string) bool {
	k := strings.ToLower(key)
	for _, n := range notSecret {
		if k == n {
			return false
		}
	}
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redact replaces the scalar values of secret settings, at any depth.
func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				x[k] = redact(e)
			default:
				if isSecret(k) && e != nil && e != "" {
					x[k] = Redacted
				}
			}
		}
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return redact(m)
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

// resources renders an app's resources as loaded (defaults applied), as
// JSON-ready values with secrets redacted.
func resources(app *spec.App) []any {
	var out []any
	for _, r := range app.Resources() {
		b, err := yaml.Marshal(r)
		if err != nil {
			continue
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			continue
		}
		out = append(out, redact(v))
	}
	if out == nil {
		out = []any{}
	}
	return out
}

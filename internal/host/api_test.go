package host

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/engine"
	"github.com/weirstream/weir/engine/kafka/kafkatest"
	"github.com/weirstream/weir/spec"
)

// A host that may be empty starts with no app; Put adds an owner's app,
// refuses a broken one with the load's own errors (positions as values)
// and keeps what it held, and removes the last app.
func TestPutOnAnEmptyHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	broker := kafkatest.New(t)
	h := New(Options{
		AllowEmpty: true,
		Compile:    engine.Options{DataDir: t.TempDir(), Env: func(string) string { return "" }},
		Adjust: func(b *spec.Bundle) {
			for _, a := range b.Apps {
				a.App.Spec.BootstrapServers = strings.Join(broker.Addrs(), ",")
			}
		},
		AdjustPlan: OneBroker,
	})
	if err := h.Put(ctx, "api/a", nil, "test"); err == nil {
		t.Fatal("Put before Start")
	}
	rt, err := h.Start(ctx, engine.RuntimeOptions{CommitInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Stop(context.Background()) }()
	if n := len(rt.Plan().Apps); n != 0 {
		t.Fatalf("%d apps at the start", n)
	}

	good := []spec.File{{Name: "api/a/a.yaml", Data: []byte(manifest("a", "one"))}}
	if err := h.Put(ctx, "api/a", good, "test"); err != nil {
		t.Fatal(err)
	}
	if !rt.Running("a") {
		t.Fatal("a does not run")
	}

	bad := []spec.File{{Name: "api/a/a.yaml", Data: []byte(strings.Replace(manifest("a", "two"), "return {", "return {{", 1))}}
	err = h.Put(ctx, "api/a", bad, "test")
	var es spec.Errors
	if !errors.As(err, &es) || es[0].File != "api/a/a.yaml" || es[0].Line == 0 {
		t.Fatalf("a broken Put: %v; want spec.Errors at api/a/a.yaml", err)
	}
	if h.LastError() == nil || h.Failures() != 1 {
		t.Fatalf("last error %v, failures %d", h.LastError(), h.Failures())
	}
	// What the owner held is as it was: a reload changes nothing.
	gen, _ := rt.Generation()
	if err := h.Reload(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if g, _ := rt.Generation(); g != gen {
		t.Fatalf("generation %d after reloading the kept manifests, want %d", g, gen)
	}

	if err := h.Put(ctx, "api/a", nil, "test"); err != nil {
		t.Fatal(err)
	}
	if rt.Running("a") || len(rt.Plan().Apps) != 0 {
		t.Fatal("a still runs after its manifests were removed")
	}
}

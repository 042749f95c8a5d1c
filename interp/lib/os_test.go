package lib

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestOSHidesWeirSettings(t *testing.T) {
	t.Setenv("WEIR_KAFKA_PASSWORD", "secret")
	t.Setenv("SHOP_REGION", "eu")
	m := newOS()
	environ, err := m.(starlark.HasAttrs).Attr("environ")
	if err != nil {
		t.Fatal(err)
	}
	d := environ.(*starlark.Dict)
	if _, found, _ := d.Get(starlark.String("WEIR_KAFKA_PASSWORD")); found {
		t.Error("os.environ shows WEIR_KAFKA_PASSWORD to code")
	}
	if v, found, _ := d.Get(starlark.String("SHOP_REGION")); !found || v != starlark.String("eu") {
		t.Errorf("SHOP_REGION = %v, %v", v, found)
	}
}

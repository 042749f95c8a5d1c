package lib

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
)

func TestZZDiff2(t *testing.T) {
	data, err := os.ReadFile("/tmp/diff/cases2.json")
	if err != nil {
		t.Skip()
	}
	var c struct {
		Floats [][2]string
		Iso    [][2]string
	}
	json.Unmarshal(data, &c)
	bad := 0
	for _, f := range c.Floats {
		v, _ := strconv.ParseFloat(f[0], 64)
		if got := pyFloatRepr(v); got != f[0] {
			bad++
			t.Logf("float %s: got %s", f[0], got)
		}
	}
	for _, x := range c.Iso {
		got := "ERR"
		if dt, err := parseISODatetime(x[0]); err == nil {
			got, _ = dt.isoformat("T", "auto")
		}
		if got != x[1] {
			bad++
			if bad < 40 {
				t.Logf("iso %q: got %s want %s", x[0], got, x[1])
			}
		}
	}
	t.Logf("%d bad of %d", bad, len(c.Floats)+len(c.Iso))
}

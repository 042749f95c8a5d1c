package lib

import (
	"encoding/json"
	"os"
	"testing"

	"go.starlark.net/starlark"
)

func TestZZDiff(t *testing.T) {
	data, err := os.ReadFile("/tmp/diff/cases.json")
	if err != nil {
		t.Skip()
	}
	var cases []struct {
		P     string         `json:"p"`
		S     string         `json:"s"`
		Flags int            `json:"flags"`
		Want  map[string]any `json:"want"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	src := `
def run(p, s, flags):
    r = re.compile(p, flags)
    out = {}
    out["findall"] = [list(x) if type(x) == "tuple" else x for x in r.findall(s)]
    out["sub"] = r.sub("<\\g<0>>", s)
    out["split"] = r.split(s)
    m = r.search(s)
    out["search"] = list(m.span()) if m else None
    m = r.match(s)
    out["match"] = list(m.span()) if m else None
    m = r.fullmatch(s)
    out["fullmatch"] = list(m.span()) if m else None
    m = r.search(s, 2)
    out["search2"] = list(m.span()) if m else None
    return json.dumps(out, sort_keys=True)
`
	re, _ := Module("re")
	js, _ := Module("json")
	th := &starlark.Thread{}
	g, err := starlark.ExecFileOptions(fileOptions, th, "d.star", src, starlark.StringDict{"re": re, "json": js})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, c := range cases {
		v, err := starlark.Call(th, g["run"], starlark.Tuple{starlark.String(c.P), starlark.String(c.S), starlark.MakeInt(c.Flags)}, nil)
		if err != nil {
			t.Logf("%q %q: %v", c.P, c.S, err)
			bad++
			continue
		}
		want, _ := json.Marshal(c.Want)
		var got, w any
		json.Unmarshal([]byte(string(v.(starlark.String))), &got)
		json.Unmarshal(want, &w)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			bad++
			if bad < 30 {
				t.Logf("%q %q flags=%d\n got %s\nwant %s", c.P, c.S, c.Flags, gb, wb)
			}
		}
	}
	t.Logf("%d/%d differ", bad, len(cases))
}

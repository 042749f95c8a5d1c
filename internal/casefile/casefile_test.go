package casefile

import "testing"

func TestRoundTrip(t *testing.T) {
	in := "A comment.\n-- app.yaml --\nkind: KasprApp\n-- errors --\napp.yaml:1:1: bad\n"
	c := Parse([]byte(in))
	if c.Comment != "A comment.\n" || len(c.Sections) != 2 {
		t.Fatalf("parsed %+v", c)
	}
	if body, ok := c.Get("app.yaml"); !ok || body != "kind: KasprApp\n" {
		t.Errorf("app.yaml = %q, %v", body, ok)
	}
	if got := string(c.Format()); got != in {
		t.Errorf("formatted %q, want %q", got, in)
	}
	c.Set("errors", "")
	c.Set("output", "ok\n")
	c.Remove("app.yaml")
	if got := string(c.Format()); got != "A comment.\n-- errors --\n-- output --\nok\n" {
		t.Errorf("after edits: %q", got)
	}
	if _, ok := c.Get("app.yaml"); ok {
		t.Error("removed section still there")
	}
}

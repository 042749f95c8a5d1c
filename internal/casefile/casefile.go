// Package casefile reads and writes the test cases weir keeps as data: a
// txtar-like text of comment lines, then sections, each introduced by a line
// "-- name --". Manifests, code blocks, inputs and the expected output of a
// case are its sections; `-update` runs rewrite the expected ones.
package casefile

import (
	"slices"
	"strings"
)

// Case is one case file.
type Case struct {
	Comment  string
	Sections []Section
}

// Section is one named part of a case.
type Section struct {
	Name string
	Body string
}

// Parse reads a case.
func Parse(data []byte) *Case {
	c := &Case{}
	cur := -1
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := header(line); ok {
			c.Sections = append(c.Sections, Section{Name: name})
			cur = len(c.Sections) - 1
			continue
		}
		if cur < 0 {
			c.Comment += line
		} else {
			c.Sections[cur].Body += line
		}
	}
	return c
}

func header(line string) (string, bool) {
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") && len(line) > 6 {
		return strings.TrimSpace(line[3 : len(line)-3]), true
	}
	return "", false
}

// Get returns a section's body and whether the case has it.
func (c *Case) Get(name string) (string, bool) {
	for _, s := range c.Sections {
		if s.Name == name {
			return s.Body, true
		}
	}
	return "", false
}

// Set replaces a section's body, or adds the section at the end.
func (c *Case) Set(name, body string) {
	for i, s := range c.Sections {
		if s.Name == name {
			c.Sections[i].Body = body
			return
		}
	}
	c.Sections = append(c.Sections, Section{name, body})
}

// Remove drops a section.
func (c *Case) Remove(name string) {
	c.Sections = slices.DeleteFunc(c.Sections, func(s Section) bool { return s.Name == name })
}

// Format writes the case back.
func (c *Case) Format() []byte {
	var b strings.Builder
	b.WriteString(c.Comment)
	for _, s := range c.Sections {
		b.WriteString("-- " + s.Name + " --\n" + s.Body)
	}
	return []byte(b.String())
}

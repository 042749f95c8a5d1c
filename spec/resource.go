package spec

// APIVersion is the one apiVersion weir reads.
const APIVersion = "kaspr.io/v1alpha1"

// AppLabel is the label that binds a resource to its KasprApp.
const AppLabel = "kaspr.io/app"

// The resource kinds, in the order they are described.
const (
	KindApp     = "KasprApp"
	KindAgent   = "KasprAgent"
	KindTable   = "KasprTable"
	KindWebView = "KasprWebView"
	KindTask    = "KasprTask"
	KindJoin    = "KasprJoin"
)

// Kinds lists every kind weir reads.
var Kinds = []string{KindApp, KindAgent, KindTable, KindWebView, KindTask, KindJoin}

// ObjectMeta is the Kubernetes metadata of a resource. Fields other than
// these are allowed and ignored.
type ObjectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Object is what every resource has: its type, its metadata, and the
// document it was read from (for positions).
type Object struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   ObjectMeta `yaml:"metadata"`

	doc *document
}

// Name is the resource's metadata.name.
func (o *Object) Name() string { return o.Metadata.Name }

// File is the file the resource was read from.
func (o *Object) File() string {
	if o.doc == nil {
		return ""
	}
	return o.doc.file
}

// Pos returns where the field at path (such as "spec.input.topic.name") is
// written, or where its nearest written ancestor is. Later stages use it to
// point their own errors at the manifest.
func (o *Object) Pos(path string) Pos {
	if o.doc == nil {
		return Pos{}
	}
	return o.doc.pos(path)
}

// KeyPos returns where the key of the field at path is written, or, for a
// field not written, the key of its nearest written ancestor.
func (o *Object) KeyPos(path string) Pos {
	if o.doc == nil {
		return Pos{}
	}
	return o.doc.keyPos(path)
}

// Written reports whether the field at path is written in the manifest:
// not absent, and not filled in by a default.
func (o *Object) Written(path string) bool {
	return o.doc != nil && o.doc.has(path)
}

func (o *Object) object() *Object { return o }

// Resource is any of the six kinds.
type Resource interface {
	Name() string
	File() string
	Pos(path string) Pos
	KeyPos(path string) Pos
	Written(path string) bool
	object() *Object
}

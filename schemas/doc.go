// Package schemas holds the JSON Schemas (draft 2020-12) of the Kaspr
// resource kinds weir runs, embedded in the binary. They are the one
// declaration of the resource model: manifest validation, `weir schema`,
// the Kubernetes CRDs under crds/ and editor completion all come from them.
//
// common.schema.json holds the definitions the kinds share; each kind has
// its own file that refers into it. Bundle makes a self-contained schema of
// one kind or of all of them (for editors), and CRD turns a kind into a
// CustomResourceDefinition.
//
// The package knows nothing of manifests, files or the runtime.
package schemas

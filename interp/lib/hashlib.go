package lib

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// The hashlib module: md5, sha1, the sha2 and sha3 families, and new(name). Data may be
// bytes or, unlike Python, str (hashed as its UTF-8 bytes).

var hashAlgorithms = map[string]func() hash.Hash{
	"md5":      md5.New,
	"sha1":     sha1.New,
	"sha224":   sha256.New224,
	"sha256":   sha256.New,
	"sha384":   sha512.New384,
	"sha512":   sha512.New,
	"sha3_224": func() hash.Hash { return sha3.New224() },
	"sha3_256": func() hash.Hash { return sha3.New256() },
	"sha3_384": func() hash.Hash { return sha3.New384() },
	"sha3_512": func() hash.Hash { return sha3.New512() },
}

func newHashlib() starlark.Value {
	funcs := map[string]builtinFunc{
		"new": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			var data bytesOrString
			var usedForSecurity bool
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "data?", &data, "usedforsecurity?", &usedForSecurity); err != nil {
				return nil, err
			}
			algo := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
			if _, ok := hashAlgorithms[algo]; !ok {
				algo = strings.ReplaceAll(algo, "_", "")
			}
			if _, ok := hashAlgorithms[algo]; !ok {
				return nil, fmt.Errorf("%s: unsupported hash type %s", b.Name(), name)
			}
			return newHashObject(algo, string(data)), nil
		},
	}
	var names starlark.Tuple
	for name := range hashAlgorithms {
		funcs[name] = func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var data bytesOrString
			var usedForSecurity bool
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "string?", &data, "usedforsecurity?", &usedForSecurity); err != nil {
				return nil, err
			}
			return newHashObject(name, string(data)), nil
		}
		names = append(names, starlark.String(name))
	}
	sort.Slice(names, func(i, j int) bool { return names[i].(starlark.String) < names[j].(starlark.String) })
	return module("hashlib", funcs, starlark.StringDict{
		"algorithms_available":  names,
		"algorithms_guaranteed": names,
	})
}

// hashObject is a hash in progress (Python's _hashlib.HASH).
type hashObject struct {
	name   string
	h      hash.Hash
	frozen bool
}

var _ starlark.HasAttrs = (*hashObject)(nil)

func newHashObject(name, data string) *hashObject {
	h := hashAlgorithms[name]()
	h.Write([]byte(data))
	return &hashObject{name: name, h: h}
}

func (o *hashObject) String() string        { return fmt.Sprintf("<%s _hashlib.HASH object>", o.name) }
func (o *hashObject) Type() string          { return "hashlib.HASH" }
func (o *hashObject) Freeze()               { o.frozen = true }
func (o *hashObject) Truth() starlark.Bool  { return true }
func (o *hashObject) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: 'hashlib.HASH'") }

func (o *hashObject) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(o.name), nil
	case "digest_size":
		return starlark.MakeInt(o.h.Size()), nil
	case "block_size":
		return starlark.MakeInt(o.h.BlockSize()), nil
	}
	return hashMethods.bind(o, name), nil
}

func (o *hashObject) AttrNames() []string {
	return append([]string{"block_size", "digest_size", "name"}, hashMethods.names()...)
}

var hashMethods = methods{
	"update": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		o := b.Receiver().(*hashObject)
		var data bytesOrString
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &data); err != nil {
			return nil, err
		}
		if o.frozen {
			return nil, fmt.Errorf("%s: cannot update frozen hash object", b.Name())
		}
		o.h.Write([]byte(data))
		return starlark.None, nil
	},
	"digest": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Bytes(b.Receiver().(*hashObject).h.Sum(nil)), nil
	},
	"hexdigest": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		return starlark.String(hex.EncodeToString(b.Receiver().(*hashObject).h.Sum(nil))), nil
	},
	"copy": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		o := b.Receiver().(*hashObject)
		state, err := o.h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		h := hashAlgorithms[o.name]()
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return &hashObject{name: o.name, h: h}, nil
	},
}

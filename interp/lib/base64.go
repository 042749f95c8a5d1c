package lib

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// The base64 module: encoders take bytes and return bytes, as in Python; decoders take bytes
// or an ASCII str. b64decode is a port of CPython's binascii.a2b_base64, so it skips
// non-alphabet characters unless validate=True, with Python's error messages.

func newBase64() starlark.Value {
	return module("base64", map[string]builtinFunc{
		"b64encode":          b64encode("+/", true),
		"b64decode":          b64decode("+/", true),
		"standard_b64encode": b64encode("+/", false),
		"standard_b64decode": b64decode("+/", false),
		"urlsafe_b64encode":  b64encode("-_", false),
		"urlsafe_b64decode":  b64decode("-_", false),
		"encodebytes":        b64encodeLines,
		"decodebytes":        b64decode("+/", false),
		"b32encode":          b32encode,
		"b32decode":          b32decode,
		"b16encode":          b16encode,
		"b16decode":          b16decode,
	}, nil)
}

// bytesArg requires bytes, as Python's encoders do.
func bytesArg(name string, v starlark.Value) (string, error) {
	if b, ok := v.(starlark.Bytes); ok {
		return string(b), nil
	}
	return "", fmt.Errorf("%s: a bytes-like object is required, not '%s'", name, pyTypeName(v))
}

// decodeDataArg accepts bytes or an ASCII str, as Python's decoders do.
func decodeDataArg(name string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.Bytes:
		return string(v), nil
	case starlark.String:
		for i := 0; i < len(v); i++ {
			if v[i] >= 0x80 {
				return "", fmt.Errorf("%s: string argument should contain only ASCII characters", name)
			}
		}
		return string(v), nil
	}
	return "", fmt.Errorf("%s: argument should be a bytes-like object or ASCII string, not '%s'", name, pyTypeName(v))
}

func b64encode(alt string, altArg bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s, altchars starlark.Value
		pairs := []any{"s", &s}
		if altArg {
			pairs = append(pairs, "altchars??", &altchars)
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		data, err := bytesArg(b.Name(), s)
		if err != nil {
			return nil, err
		}
		out := base64.StdEncoding.EncodeToString([]byte(data))
		a := alt
		if altchars != nil {
			if a, err = bytesArg(b.Name(), altchars); err != nil {
				return nil, err
			}
			if len(a) != 2 {
				return nil, fmt.Errorf("%s: altchars must be 2 bytes", b.Name())
			}
		}
		if a != "+/" {
			out = strings.NewReplacer("+", a[:1], "/", a[1:]).Replace(out)
		}
		return starlark.Bytes(out), nil
	}
}

func b64encodeLines(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	data, err := bytesArg(b.Name(), s)
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString([]byte(data))
	var out strings.Builder
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		out.WriteString(enc + "\n")
	}
	return starlark.Bytes(out.String()), nil
}

func b64decode(alt string, altArg bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s, altchars starlark.Value
		validate := false
		pairs := []any{"s", &s}
		if altArg {
			pairs = append(pairs, "altchars??", &altchars, "validate?", &validate)
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		data, err := decodeDataArg(b.Name(), s)
		if err != nil {
			return nil, err
		}
		a := alt
		if altchars != nil {
			if a, err = decodeDataArg(b.Name(), altchars); err != nil {
				return nil, err
			}
			if len(a) != 2 {
				return nil, fmt.Errorf("%s: altchars must be 2 bytes", b.Name())
			}
		}
		if a != "+/" {
			data = strings.Map(func(r rune) rune {
				switch r {
				case rune(a[0]):
					return '+'
				case rune(a[1]):
					return '/'
				}
				return r
			}, data)
		}
		out, err := a2bBase64(data, validate)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.Bytes(out), nil
	}
}

func b64value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return 255
}

// a2bBase64 is CPython 3.11's binascii.a2b_base64.
func a2bBase64(data string, strict bool) ([]byte, error) {
	if strict && len(data) > 0 && data[0] == '=' {
		return nil, fmt.Errorf("Leading padding not allowed")
	}
	out := make([]byte, 0, len(data)/4*3+3)
	quadPos, pads := 0, 0
	var left byte
	paddingStarted := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '=' {
			paddingStarted = true
			if quadPos >= 2 {
				pads++
				if quadPos+pads >= 4 {
					if strict && i+1 < len(data) {
						return nil, fmt.Errorf("Excess data after padding")
					}
					return out, nil
				}
			}
			continue
		}
		v := b64value(c)
		if v >= 64 {
			if strict {
				return nil, fmt.Errorf("Only base64 data is allowed")
			}
			continue
		}
		if strict && paddingStarted {
			return nil, fmt.Errorf("Discontinuous padding not allowed")
		}
		pads = 0
		switch quadPos {
		case 0:
			quadPos, left = 1, v
		case 1:
			quadPos = 2
			out = append(out, left<<2|v>>4)
			left = v & 0x0f
		case 2:
			quadPos = 3
			out = append(out, left<<4|v>>2)
			left = v & 0x03
		case 3:
			quadPos = 0
			out = append(out, left<<6|v)
			left = 0
		}
	}
	switch quadPos {
	case 0:
		return out, nil
	case 1:
		return nil, fmt.Errorf("Invalid base64-encoded string: number of data characters (%d) cannot be 1 more than a multiple of 4", len(out)/3*4+1)
	}
	return nil, fmt.Errorf("Incorrect padding")
}

func b32encode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	data, err := bytesArg(b.Name(), s)
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(base32.StdEncoding.EncodeToString([]byte(data))), nil
}

func b32decode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	casefold := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "casefold?", &casefold); err != nil {
		return nil, err
	}
	data, err := decodeDataArg(b.Name(), s)
	if err != nil {
		return nil, err
	}
	if len(data)%8 != 0 {
		return nil, fmt.Errorf("%s: Incorrect padding", b.Name())
	}
	if casefold {
		data = strings.ToUpper(data)
	}
	out, err := base32.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("%s: Non-base32 digit found", b.Name())
	}
	return starlark.Bytes(out), nil
}

func b16encode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	data, err := bytesArg(b.Name(), s)
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(strings.ToUpper(hex.EncodeToString([]byte(data)))), nil
}

func b16decode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	casefold := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "casefold?", &casefold); err != nil {
		return nil, err
	}
	data, err := decodeDataArg(b.Name(), s)
	if err != nil {
		return nil, err
	}
	if casefold {
		data = strings.ToUpper(data)
	}
	if strings.IndexFunc(data, func(r rune) bool { return !('0' <= r && r <= '9' || 'A' <= r && r <= 'F') }) >= 0 {
		return nil, fmt.Errorf("%s: Non-base16 digit found", b.Name())
	}
	if len(data)%2 != 0 {
		return nil, fmt.Errorf("%s: Odd-length string", b.Name())
	}
	out, _ := hex.DecodeString(data)
	return starlark.Bytes(out), nil
}

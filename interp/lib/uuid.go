package lib

import (
	"bytes"
	"crypto/md5"
	crand "crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// The uuid module: UUID values, uuid1 (random node, as Python uses when it finds no MAC
// address), uuid3, uuid4, uuid5 and the standard namespaces.

type uuidValue [16]byte

var (
	_ starlark.TotallyOrdered = uuidValue{}
	_ starlark.HasAttrs       = uuidValue{}
)

func mustUUID(s string) uuidValue {
	u, err := parseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

func parseUUID(s string) (uuidValue, error) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	s = strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	var u uuidValue
	if len(s) != 32 {
		return u, fmt.Errorf("badly formed hexadecimal UUID string")
	}
	if _, err := hex.Decode(u[:], []byte(s)); err != nil {
		return u, fmt.Errorf("badly formed hexadecimal UUID string")
	}
	return u, nil
}

func (u uuidValue) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
func (u uuidValue) Type() string          { return "UUID" }
func (u uuidValue) Freeze()               {}
func (u uuidValue) Truth() starlark.Bool  { return true }
func (u uuidValue) Hash() (uint32, error) { return hashString(string(u[:])), nil }
func (u uuidValue) Cmp(y starlark.Value, depth int) (int, error) {
	v := y.(uuidValue)
	return bytes.Compare(u[:], v[:]), nil
}

func (u uuidValue) variant() string {
	switch {
	case u[8]&0x80 == 0:
		return "reserved for NCS compatibility"
	case u[8]&0x40 == 0:
		return "specified in RFC 4122"
	case u[8]&0x20 == 0:
		return "reserved for Microsoft compatibility"
	}
	return "reserved for future definition"
}

func (u uuidValue) Attr(name string) (starlark.Value, error) {
	be := binary.BigEndian
	switch name {
	case "hex":
		return starlark.String(hex.EncodeToString(u[:])), nil
	case "int":
		return starlark.MakeBigInt(new(big.Int).SetBytes(u[:])), nil
	case "bytes":
		return starlark.Bytes(u[:]), nil
	case "urn":
		return starlark.String("urn:uuid:" + u.String()), nil
	case "variant":
		return starlark.String(u.variant()), nil
	case "version":
		if u.variant() != "specified in RFC 4122" {
			return starlark.None, nil
		}
		return starlark.MakeInt(int(u[6] >> 4)), nil
	case "time_low":
		return starlark.MakeUint64(uint64(be.Uint32(u[0:4]))), nil
	case "time_mid":
		return starlark.MakeInt(int(be.Uint16(u[4:6]))), nil
	case "time_hi_version":
		return starlark.MakeInt(int(be.Uint16(u[6:8]))), nil
	case "clock_seq_hi_variant":
		return starlark.MakeInt(int(u[8])), nil
	case "clock_seq_low":
		return starlark.MakeInt(int(u[9])), nil
	case "node":
		return starlark.MakeUint64(be.Uint64(append([]byte{0, 0}, u[10:]...))), nil
	}
	return nil, nil
}

func (u uuidValue) AttrNames() []string {
	return []string{"bytes", "clock_seq_hi_variant", "clock_seq_low", "hex", "int", "node", "time_hi_version", "time_low", "time_mid", "urn", "variant", "version"}
}

func (u *uuidValue) setVersion(v byte) {
	u[6] = u[6]&0x0f | v<<4
	u[8] = u[8]&0x3f | 0x80
}

func uuidNew(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var hexV, bytesV, intV starlark.Value
	var version starlark.Value
	if err := starlark.UnpackArgs("UUID", args, kwargs, "hex??", &hexV, "bytes??", &bytesV, "bytes_le??", new(starlark.Value),
		"fields??", new(starlark.Value), "int??", &intV, "version??", &version); err != nil {
		return nil, err
	}
	set := 0
	for _, v := range []starlark.Value{hexV, bytesV, intV} {
		if v != nil {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("UUID: one of the hex, bytes or int arguments must be given")
	}
	var u uuidValue
	switch {
	case hexV != nil:
		s, ok := hexV.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("UUID: hex must be str, not %s", pyTypeName(hexV))
		}
		var err error
		if u, err = parseUUID(string(s)); err != nil {
			return nil, fmt.Errorf("UUID: %w", err)
		}
	case bytesV != nil:
		bs, ok := bytesV.(starlark.Bytes)
		if !ok || len(bs) != 16 {
			return nil, fmt.Errorf("UUID: bytes is not a 16-char string")
		}
		copy(u[:], bs)
	default:
		n, ok := intV.(starlark.Int)
		if !ok || n.Sign() < 0 || n.BigInt().BitLen() > 128 {
			return nil, fmt.Errorf("UUID: int is out of range (need a 128-bit value)")
		}
		n.BigInt().FillBytes(u[:])
	}
	if version != nil {
		v, err := toInt64(version)
		if err != nil || v < 1 || v > 8 {
			return nil, fmt.Errorf("UUID: illegal version number")
		}
		u.setVersion(byte(v))
	}
	return u, nil
}

func randomUUID() uuidValue {
	var u uuidValue
	if _, err := crand.Read(u[:]); err != nil {
		panic(fmt.Sprintf("uuid: reading crypto/rand: %v", err))
	}
	u.setVersion(4)
	return u
}

// hashUUID is uuid3 (md5) or uuid5 (sha1) of a namespace and a name (str or bytes).
func hashUUID(version byte) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var ns starlark.Value
		var name bytesOrString
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "namespace", &ns, "name", &name); err != nil {
			return nil, err
		}
		nsu, ok := ns.(uuidValue)
		if !ok {
			return nil, fmt.Errorf("%s: namespace must be a UUID, not %s", b.Name(), pyTypeName(ns))
		}
		var sum []byte
		if version == 3 {
			s := md5.Sum(append(nsu[:], name...))
			sum = s[:]
		} else {
			s := sha1.Sum(append(nsu[:], name...))
			sum = s[:]
		}
		var u uuidValue
		copy(u[:], sum)
		u.setVersion(version)
		return u, nil
	}
}

// uuid1State keeps uuid1 timestamps increasing, as Python does.
type uuid1State struct {
	mu   sync.Mutex
	last int64
	node [6]byte
}

func (st *uuid1State) next(node *[6]byte, clockSeq int64) uuidValue {
	st.mu.Lock()
	// 100-ns intervals since 1582-10-15.
	ts := time.Now().UnixNano()/100 + 0x01b21dd213814000
	if ts <= st.last {
		ts = st.last + 1
	}
	st.last = ts
	if node == nil {
		node = &st.node
	}
	st.mu.Unlock()
	if clockSeq < 0 {
		var r [2]byte
		_, _ = crand.Read(r[:])
		clockSeq = int64(binary.BigEndian.Uint16(r[:]) & 0x3fff)
	}
	var u uuidValue
	binary.BigEndian.PutUint32(u[0:4], uint32(ts))
	binary.BigEndian.PutUint16(u[4:6], uint16(ts>>32))
	binary.BigEndian.PutUint16(u[6:8], uint16(ts>>48)&0x0fff|0x1000)
	u[8] = byte(clockSeq>>8)&0x3f | 0x80
	u[9] = byte(clockSeq)
	copy(u[10:], node[:])
	return u
}

func newUUID() starlark.Value {
	st := &uuid1State{}
	_, _ = crand.Read(st.node[:])
	st.node[0] |= 0x01 // a random node has the multicast bit set (RFC 4122 4.5)
	return module("uuid", map[string]builtinFunc{
		"uuid4": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return randomUUID(), nil
		},
		"uuid3": hashUUID(3),
		"uuid5": hashUUID(5),
		"uuid1": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var nodeV, seqV starlark.Value
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "node??", &nodeV, "clock_seq??", &seqV); err != nil {
				return nil, err
			}
			var node *[6]byte
			if nodeV != nil {
				n, err := toInt64(nodeV)
				if err != nil || n < 0 || n >= 1<<48 {
					return nil, fmt.Errorf("%s: node must be a 48-bit int", b.Name())
				}
				var buf [8]byte
				binary.BigEndian.PutUint64(buf[:], uint64(n))
				node = (*[6]byte)(buf[2:])
			}
			seq := int64(-1)
			if seqV != nil {
				n, err := toInt64(seqV)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("%s: clock_seq must be a 14-bit int", b.Name())
				}
				seq = n & 0x3fff
			}
			return st.next(node, seq), nil
		},
	}, starlark.StringDict{
		"UUID":               &class{module: "uuid", name: "UUID", ctor: uuidNew},
		"NAMESPACE_DNS":      mustUUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
		"NAMESPACE_URL":      mustUUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
		"NAMESPACE_OID":      mustUUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8"),
		"NAMESPACE_X500":     mustUUID("6ba7b814-9dad-11d1-80b4-00c04fd430c8"),
		"RESERVED_NCS":       starlark.String("reserved for NCS compatibility"),
		"RFC_4122":           starlark.String("specified in RFC 4122"),
		"RESERVED_MICROSOFT": starlark.String("reserved for Microsoft compatibility"),
		"RESERVED_FUTURE":    starlark.String("reserved for future definition"),
	})
}

package lib

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The random module. Its generator is seeded from crypto/rand once per process and shared,
// behind a lock, by every thread; it cannot be seeded, so results are not reproducible.

type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// below returns a uniform integer in [0, n), n > 0.
func (l *lockedRand) below(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

func (l *lockedRand) uint64() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Uint64()
}

func (l *lockedRand) norm() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.NormFloat64()
}

func (l *lockedRand) exp() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.ExpFloat64()
}

func newLockedRand() *lockedRand {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic(fmt.Sprintf("random: reading crypto/rand: %v", err))
	}
	return &lockedRand{r: rand.New(rand.NewChaCha8(seed))}
}

func newRandom() starlark.Value {
	rng := newLockedRand()
	return module("random", map[string]builtinFunc{
		"random": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := noArgs(b, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.Float(rng.float64()), nil
		},
		"uniform": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var a, c number
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &a, "b", &c); err != nil {
				return nil, err
			}
			return starlark.Float(float64(a) + float64(c-a)*rng.float64()), nil
		},
		"randint": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var a, c starlark.Value
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &a, "b", &c); err != nil {
				return nil, err
			}
			stop, err := starlark.Binary(syntax.PLUS, c, starlark.MakeInt(1))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return randrange(b.Name(), rng, a, stop, nil)
		},
		"randrange": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var start, stop, step starlark.Value
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "start", &start, "stop?", &stop, "step?", &step); err != nil {
				return nil, err
			}
			return randrange(b.Name(), rng, start, stop, step)
		},
		"getrandbits": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var k int
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &k); err != nil {
				return nil, err
			}
			if k < 0 {
				return nil, fmt.Errorf("%s: number of bits must be non-negative", b.Name())
			}
			if k > 1<<20 {
				return nil, fmt.Errorf("%s: number of bits too large", b.Name())
			}
			buf := make([]byte, (k+63)/64*8)
			for i := 0; i < len(buf); i += 8 {
				binary.BigEndian.PutUint64(buf[i:], rng.uint64())
			}
			n := new(big.Int).SetBytes(buf)
			n.Rsh(n, uint(len(buf)*8-k))
			return starlark.MakeBigInt(n), nil
		},
		"randbytes": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var n int
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &n); err != nil {
				return nil, err
			}
			if n < 0 || n > 1<<24 {
				return nil, fmt.Errorf("%s: invalid size %d", b.Name(), n)
			}
			buf := make([]byte, (n+7)/8*8)
			for i := 0; i < len(buf); i += 8 {
				binary.LittleEndian.PutUint64(buf[i:], rng.uint64())
			}
			return starlark.Bytes(buf[:n]), nil
		},
		"choice": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var seq starlark.Indexable
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &seq); err != nil {
				return nil, err
			}
			if seq.Len() == 0 {
				return nil, fmt.Errorf("%s: Cannot choose from an empty sequence", b.Name())
			}
			return seq.Index(int(rng.below(int64(seq.Len())))), nil
		},
		"choices": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var pop starlark.Indexable
			var weights, cumWeights starlark.Value
			k := 1
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "population", &pop, "weights??", &weights, "cum_weights??", &cumWeights, "k?", &k); err != nil {
				return nil, err
			}
			return choices(b.Name(), rng, pop, weights, cumWeights, k)
		},
		"shuffle": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
				return nil, err
			}
			seq, ok := x.(starlark.HasSetIndex)
			if !ok {
				return nil, fmt.Errorf("%s: '%s' object does not support item assignment", b.Name(), pyTypeName(x))
			}
			for i := seq.Len() - 1; i > 0; i-- {
				j := int(rng.below(int64(i + 1)))
				a, c := seq.Index(i), seq.Index(j)
				if err := seq.SetIndex(i, c); err != nil {
					return nil, fmt.Errorf("%s: %w", b.Name(), err)
				}
				if err := seq.SetIndex(j, a); err != nil {
					return nil, fmt.Errorf("%s: %w", b.Name(), err)
				}
			}
			return starlark.None, nil
		},
		"sample": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var popV starlark.Value
			var k int
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "population", &popV, "k", &k); err != nil {
				return nil, err
			}
			pop, ok := popV.(starlark.Indexable)
			if !ok {
				return nil, fmt.Errorf("%s: Population must be a sequence.  For dicts or sets, use sorted(d).", b.Name())
			}
			n := pop.Len()
			if k < 0 || k > n {
				return nil, fmt.Errorf("%s: Sample larger than population or is negative", b.Name())
			}
			idx := make([]int, n)
			for i := range idx {
				idx[i] = i
			}
			out := make([]starlark.Value, k)
			for i := range k {
				j := i + int(rng.below(int64(n-i)))
				idx[i], idx[j] = idx[j], idx[i]
				out[i] = pop.Index(idx[i])
			}
			return starlark.NewList(out), nil
		},
		"gauss":         normal(rng),
		"normalvariate": normal(rng),
		"expovariate": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			lambd := number(1)
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "lambd?", &lambd); err != nil {
				return nil, err
			}
			if lambd == 0 {
				return nil, fmt.Errorf("%s: float division by zero", b.Name())
			}
			return starlark.Float(rng.exp() / float64(lambd)), nil
		},
	}, nil)
}

func normal(rng *lockedRand) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mu, sigma := number(0), number(1)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "mu?", &mu, "sigma?", &sigma); err != nil {
			return nil, err
		}
		return starlark.Float(float64(mu) + float64(sigma)*rng.norm()), nil
	}
}

func intOf(name string, v starlark.Value, which string) (int64, error) {
	switch v := v.(type) {
	case starlark.Int:
		i, ok := v.Int64()
		if !ok {
			return 0, fmt.Errorf("%s: %s too large (weir supports 64-bit ranges)", name, which)
		}
		return i, nil
	case starlark.Bool:
		return int64(b2i(bool(v))), nil
	}
	return 0, fmt.Errorf("%s: non-integer %s for randrange()", name, which)
}

// randrange is Python's Random.randrange; stop and step may be nil (absent).
func randrange(name string, rng *lockedRand, startV, stopV, stepV starlark.Value) (starlark.Value, error) {
	start, err := intOf(name, startV, "arg 1")
	if err != nil {
		return nil, err
	}
	if stopV == nil || stopV == starlark.None {
		if stepV != nil {
			return nil, fmt.Errorf("%s: Missing a non-None stop argument", name)
		}
		if start > 0 {
			return starlark.MakeInt64(rng.below(start)), nil
		}
		return nil, fmt.Errorf("%s: empty range for randrange()", name)
	}
	stop, err := intOf(name, stopV, "stop")
	if err != nil {
		return nil, err
	}
	step := int64(1)
	if stepV != nil {
		if step, err = intOf(name, stepV, "step"); err != nil {
			return nil, err
		}
	}
	width := new(big.Int).Sub(big.NewInt(stop), big.NewInt(start))
	n := new(big.Int)
	switch {
	case step == 1:
		if width.Sign() <= 0 {
			return nil, fmt.Errorf("%s: empty range for randrange() (%d, %d, %s)", name, start, stop, width)
		}
		n.Set(width)
	case step > 0:
		n.Add(width, big.NewInt(step-1)).Div(n, big.NewInt(step))
	case step < 0:
		n.Add(width, big.NewInt(step+1)).Neg(n).Div(n, big.NewInt(-step))
	default:
		return nil, fmt.Errorf("%s: zero step for randrange()", name)
	}
	if n.Sign() <= 0 {
		return nil, fmt.Errorf("%s: empty range for randrange()", name)
	}
	if !n.IsInt64() {
		return nil, fmt.Errorf("%s: range too large (weir supports 64-bit ranges)", name)
	}
	r := new(big.Int).Mul(big.NewInt(rng.below(n.Int64())), big.NewInt(step))
	return starlark.MakeBigInt(r.Add(r, big.NewInt(start))), nil
}

func choices(name string, rng *lockedRand, pop starlark.Indexable, weights, cumWeights starlark.Value, k int) (starlark.Value, error) {
	n := pop.Len()
	out := make([]starlark.Value, 0, max(k, 0))
	if weights == nil && cumWeights == nil {
		if n == 0 && k > 0 {
			return nil, fmt.Errorf("%s: Cannot choose from an empty sequence", name)
		}
		for range k {
			out = append(out, pop.Index(int(rng.below(int64(n)))))
		}
		return starlark.NewList(out), nil
	}
	if weights != nil && cumWeights != nil {
		return nil, fmt.Errorf("%s: Cannot specify both weights and cumulative weights", name)
	}
	src := weights
	if src == nil {
		src = cumWeights
	}
	ws, ok := src.(starlark.Indexable)
	if !ok {
		return nil, fmt.Errorf("%s: weights must be a sequence, not %s", name, pyTypeName(src))
	}
	if ws.Len() != n {
		return nil, fmt.Errorf("%s: The number of weights does not match the population", name)
	}
	cum := make([]float64, n)
	total := 0.0
	for i := range n {
		w, err := toFloat(ws.Index(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if weights != nil {
			total += w
			cum[i] = total
		} else {
			cum[i], total = w, w
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: Cannot choose from an empty sequence", name)
	}
	if total <= 0 {
		return nil, fmt.Errorf("%s: Total of weights must be greater than zero", name)
	}
	if math.IsInf(total, 0) || math.IsNaN(total) {
		return nil, fmt.Errorf("%s: Total of weights must be finite", name)
	}
	for range k {
		x := rng.float64() * total
		i := sort.Search(n-1, func(i int) bool { return cum[i] > x })
		out = append(out, pop.Index(i))
	}
	return starlark.NewList(out), nil
}

package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// RecordBytes is the size of every input value.
const RecordBytes = 200

// warmupKey is the key (and order id) of the record that, with a rate,
// proves the pipeline is live before the measured records are fed.
const warmupKey = "warmup"

// Which orders are test orders (the filter drops them) and which are
// invalid (routed to the errors topic): one in twenty each.
func isTestOrder(i int) bool { return i%20 == 7 }
func isInvalid(i int) bool   { return i%20 == 13 }

// expectedOutputs is how many output records n input records make: every
// order but the test orders.
func expectedOutputs(n int) int {
	tests := n / 20
	if n%20 > 7 {
		tests++
	}
	return n - tests
}

// orderKey is the key of input record i: its order id.
func orderKey(i int) []byte { return fmt.Appendf(nil, "o-%09d", i) }

// order returns input record i's value, exactly RecordBytes long, stamped
// with ts (microseconds since the epoch).
func order(id []byte, i int, ts time.Time) []byte {
	b := make([]byte, 0, RecordBytes)
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","customer":"c-`...)
	b = appendPadded(b, i%10007, 5)
	b = append(b, `","sku":"sku-`...)
	b = appendPadded(b, i%997, 4)
	b = append(b, `","qty":`...)
	qty := 1 + i%5
	if isInvalid(i) {
		qty = 0
	}
	b = strconv.AppendInt(b, int64(qty), 10)
	b = append(b, `,"price":`...)
	b = strconv.AppendInt(b, int64(1+i%97), 10)
	b = append(b, '.')
	b = appendPadded(b, i%100, 2)
	if isTestOrder(i) {
		b = append(b, `,"test":true`...)
	}
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts.UnixMicro(), 10)
	b = append(b, `,"note":"`...)
	for len(b) < RecordBytes-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

var tsField = []byte(`"ts"`)

// producedAt reads the "ts" field of a JSON value (as the input carried it
// and as the app passes it on); false when there is none.
func producedAt(v []byte) (time.Time, bool) {
	i := bytes.Index(v, tsField)
	if i < 0 {
		return time.Time{}, false
	}
	v = v[i+len(tsField):]
	v = bytes.TrimLeft(v, " \t")
	if len(v) == 0 || v[0] != ':' {
		return time.Time{}, false
	}
	v = bytes.TrimLeft(v[1:], " \t")
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	us, err := strconv.ParseInt(string(v[:n]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMicro(us), true
}

package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A send job's delivery ids travel packed in one JSON string rather than as
// a JSON array: River indexes job args with a GIN index (jsonb_ops), where
// every array element is an entry, written again at every state change of
// the job (not HOT: the state is indexed), and the GIN pending list's
// cleanup then writes tens of KB at a time in whichever backend crosses its
// limit. A string is one entry (hashed when long), whatever its length.
//
// The packing is text that SQL can read back (unpack_delivery_ids,
// migration 051, which requeue_orphaned uses): comma-separated signed
// decimal deltas from the previous id (the first from 0), a run of equal
// deltas written once as delta*count. The launch's ids are mostly
// consecutive, so 200 of them take a few bytes; any order and any gaps
// round-trip exactly.

// maxPackedRun bounds a run's count so a malformed packing cannot expand to
// an unbounded list; unpack_delivery_ids holds the same bound (9 digits).
const maxPackedRun = 999_999_999

var errPacked = errors.New("malformed packed delivery ids")

// packIDs packs ids (any order, duplicates allowed) into one string.
func packIDs(ids []int64) string {
	var b []byte
	var prev int64
	for i := 0; i < len(ids); {
		// Wrapping arithmetic: a delta that overflows comes back exactly
		// when added in unpackIDs. Delivery ids are positive, so no delta of
		// theirs overflows and SQL reads the same values.
		d := ids[i] - prev
		n := 1
		for i+n < len(ids) && n < maxPackedRun && ids[i+n]-ids[i+n-1] == d {
			n++
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, d, 10)
		if n > 1 {
			b = append(b, '*')
			b = strconv.AppendInt(b, int64(n), 10)
		}
		prev = ids[i+n-1]
		i += n
	}
	return string(b)
}

// unpackIDs reads back what packIDs wrote, want ids of it: a packing that
// holds another number of ids is an error, found before it allocates more.
func unpackIDs(s string, want int) ([]int64, error) {
	if want < 0 {
		return nil, fmt.Errorf("%w: want %d", errPacked, want)
	}
	if s == "" {
		if want != 0 {
			return nil, fmt.Errorf("%w: none, want %d", errPacked, want)
		}
		return nil, nil
	}
	ids := make([]int64, 0, want)
	var prev int64
	for tok := range strings.SplitSeq(s, ",") {
		delta, count, runs := strings.Cut(tok, "*")
		d, err := strconv.ParseInt(delta, 10, 64)
		if err == nil && strings.HasPrefix(delta, "+") {
			// unpack_delivery_ids' pattern takes no plus sign.
			err = strconv.ErrSyntax
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", errPacked, tok, err)
		}
		n := 1
		if runs {
			// Digits only, as unpack_delivery_ids' pattern: ParseInt alone
			// would take a sign.
			if count == "" || len(count) > 9 || count[0] == '0' || strings.Trim(count, "0123456789") != "" {
				return nil, fmt.Errorf("%w: %q", errPacked, tok)
			}
			n, _ = strconv.Atoi(count)
		}
		if n > want-len(ids) {
			return nil, fmt.Errorf("%w: more than %d ids", errPacked, want)
		}
		for range n {
			prev += d
			ids = append(ids, prev)
		}
	}
	if len(ids) != want {
		return nil, fmt.Errorf("%w: %d ids, want %d", errPacked, len(ids), want)
	}
	return ids, nil
}

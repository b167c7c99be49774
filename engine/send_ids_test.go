package engine

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// packCases are id lists the packing must carry exactly: empty, runs,
// large gaps both ways, duplicates and the extremes of int64.
var packCases = [][]int64{
	nil,
	{1},
	{42, 43, 44, 45},
	{7, 7, 7},
	{100, 5_000_000_000, 101, 9},
	{math.MaxInt64, math.MinInt64, 0, -1, math.MaxInt64},
	{1, 2, 3, 10, 11, 12, 1 << 40, 1<<40 + 1},
}

func TestPackIDsRoundTrips(t *testing.T) {
	t.Parallel()
	for _, ids := range packCases {
		got, err := unpackIDs(packIDs(ids), len(ids))
		require.NoError(t, err, "%v packed as %q", ids, packIDs(ids))
		require.Equal(t, len(ids), len(got))
		if len(ids) > 0 {
			require.Equal(t, ids, got)
		}
	}
	// A launch's batch: 200 consecutive ids are one run, one GIN entry and
	// a few bytes instead of 200 entries and ≈ 1.6 KB of array.
	run := make([]int64, 200)
	for i := range run {
		run[i] = 12_345_678 + int64(i)
	}
	require.Equal(t, "12345678,1*199", packIDs(run))
}

func TestUnpackIDsRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    string
		want int
	}{
		{"", 1}, {"1", 0}, {"1,2", 1}, {"1*3", 2}, {"x", 1}, {"1,", 1}, {",1", 1},
		{"+1", 1}, {"1*", 1}, {"1*0", 0}, {"1*01", 1}, {"1*-2", 2}, {"1*+2", 2},
		{"1*1000000000", 1_000_000_000}, {"1", -1},
		{"99999999999999999999", 1},
	} {
		_, err := unpackIDs(c.s, c.want)
		require.ErrorIs(t, err, errPacked, "%q want %d", c.s, c.want)
	}
}

// TestSendArgsJSON: a send job's args hold its ids as one string and their
// count, with no array for River's GIN index to spread; an older process's
// args (an array under delivery_ids) still read.
func TestSendArgsJSON(t *testing.T) {
	t.Parallel()
	a := SendArgs{CampaignID: 9, DeliveryIDs: []int64{5, 6, 7, 100}, Rule: "r", Step: "s"}
	b, err := json.Marshal(a)
	require.NoError(t, err)
	require.JSONEq(t, `{"campaign_id": 9, "ids": "5,1*2,93", "n": 4, "rule": "r", "step": "s"}`, string(b))
	var back SendArgs
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, a, back)

	var old SendArgs
	require.NoError(t, json.Unmarshal([]byte(`{"campaign_id": 9, "delivery_ids": [5, 6, 7, 100]}`), &old))
	require.Equal(t, SendArgs{CampaignID: 9, DeliveryIDs: []int64{5, 6, 7, 100}}, old)

	var bad SendArgs
	require.ErrorIs(t, json.Unmarshal([]byte(`{"campaign_id": 9, "ids": "5,1*2", "n": 4}`), &bad), errPacked)
	require.ErrorIs(t, json.Unmarshal([]byte(`{"campaign_id": 9, "ids": "", "n": 4}`), &bad), errPacked)

	require.Equal(t, "send_packed", SendArgs{}.Kind())
	require.Equal(t, []string{"send"}, SendArgs{}.KindAliases())
}

// FuzzPackIDs: any id list (read from the fuzzer's bytes, eight per id)
// round-trips, and the packing is only digits, signs, commas and stars.
func FuzzPackIDs(f *testing.F) {
	for _, ids := range packCases {
		b := make([]byte, 0, 8*len(ids))
		for _, id := range ids {
			b = binary.LittleEndian.AppendUint64(b, uint64(id))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ids := make([]int64, len(b)/8)
		for i := range ids {
			ids[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		s := packIDs(ids)
		require.Empty(t, strings.Trim(s, "0123456789-,*"))
		got, err := unpackIDs(s, len(ids))
		require.NoError(t, err, "%q", s)
		require.Equal(t, len(ids), len(got))
		for i := range ids {
			require.Equal(t, ids[i], got[i])
		}
	})
}

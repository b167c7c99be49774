package segments

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The Go path reads up to millions of rows per count, so it decodes the
// columns it selects itself, straight from PostgreSQL's binary format,
// instead of through pgx's per-column scan plans (which cost more than
// evaluating the rule). Any column in another format or of another type
// than expected goes through the connection's pgtype.Map, so the result is
// the same either way.

// Type OIDs the fast path decodes.
const (
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidTextArray   = 1009
	oidVarchar     = 1043
	oidTimestamptz = 1184
	oidJSONB       = 3802
	binaryFormat   = 1
)

// pgEpoch is 2000-01-01 UTC, the origin of PostgreSQL's binary timestamps,
// in Unix microseconds.
const pgEpochMicros = 946684800 * 1000000

// decode reads one row's values (rows.RawValues) into r. fds describe the
// columns, targets say where each goes, tm decodes anything the fast path
// does not know.
func (r *envRow) decode(vals [][]byte, fds []pgconn.FieldDescription, targets []envTarget, tm *pgtype.Map) error {
	for i, t := range targets {
		v, fd := vals[i], &fds[i]
		var err error
		switch t.col {
		case ecAttrs:
			r.attrs, err = decodeJSON(v, fd, tm)
		case ecAttrKey:
			r.keyVals[t.key], err = decodeJSON(v, fd, tm)
		case ecID:
			var n int64
			n, err = decodeInt(v, fd, tm)
			r.id = n
		case ecEmail:
			r.email, err = decodeText(v, fd, tm, nil)
		case ecName:
			r.name, err = decodeText(v, fd, tm, nil)
		case ecTags:
			r.tags, err = r.decodeTags(v, fd, tm)
		case ecTopics:
			r.topics, err = decodeTopics(v, fd, tm)
		case ecStatus:
			r.status, err = decodeText(v, fd, tm, &r.strs)
		case ecCreatedAt:
			r.createdAt, err = decodeTime(v, fd, tm)
		case ecConsentSource:
			r.consentSource, err = decodeText(v, fd, tm, &r.strs)
		case ecConsentAt:
			r.consentAt, err = decodeTime(v, fd, tm)
		case ecConsentIP:
			r.consentIP, err = decodeText(v, fd, tm, nil)
		case ecSent:
			r.sent, err = decodeSmallInt(v, fd, tm)
		case ecOpens:
			r.opens, err = decodeSmallInt(v, fd, tm)
		case ecClicks:
			r.clicks, err = decodeSmallInt(v, fd, tm)
		case ecConversions:
			r.convs, err = decodeSmallInt(v, fd, tm)
		case ecRevenue:
			r.revenue, err = decodeFloat(v, fd, tm)
		case ecLastOpen:
			r.lastOpen, err = decodeTime(v, fd, tm)
		case ecLastClick:
			r.lastClick, err = decodeTime(v, fd, tm)
		case ecLastPurchase:
			r.lastPurchase, err = decodeTime(v, fd, tm)
		case ecRFMRecency:
			r.rfmR, err = decodeSmallInt(v, fd, tm)
		case ecRFMFrequency:
			r.rfmF, err = decodeSmallInt(v, fd, tm)
		case ecRFMMonetary:
			r.rfmM, err = decodeSmallInt(v, fd, tm)
		case ecRFMSegment:
			r.rfmSegment, err = decodeText(v, fd, tm, &r.strs)
		case ecRFMValue:
			r.rfmValue, err = decodeFloat(v, fd, tm)
		case ecChurnRisk:
			r.churnRisk, err = decodeFloat(v, fd, tm)
		case ecResponseLikelihood:
			r.responseLikelihood, err = decodeFloat(v, fd, tm)
		case ecClusterID:
			r.clusterID, err = decodeSmallInt(v, fd, tm)
		default:
			err = fmt.Errorf("unknown target %d", t.col)
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", fd.Name, err)
		}
	}
	return nil
}

func decodeInt(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) (int64, error) {
	if v == nil {
		return 0, nil
	}
	if fd.Format == binaryFormat {
		switch {
		case fd.DataTypeOID == oidInt8 && len(v) == 8:
			return int64(binary.BigEndian.Uint64(v)), nil
		case fd.DataTypeOID == oidInt4 && len(v) == 4:
			return int64(int32(binary.BigEndian.Uint32(v))), nil
		case fd.DataTypeOID == oidInt2 && len(v) == 2:
			return int64(int16(binary.BigEndian.Uint16(v))), nil
		}
	}
	var n int64
	err := tm.Scan(fd.DataTypeOID, fd.Format, v, &n)
	return n, err
}

func decodeSmallInt(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) (int, error) {
	n, err := decodeInt(v, fd, tm)
	return int(n), err
}

func decodeFloat(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) (float64, error) {
	if v == nil {
		return 0, nil
	}
	if fd.Format == binaryFormat {
		switch {
		case fd.DataTypeOID == oidFloat8 && len(v) == 8:
			return math.Float64frombits(binary.BigEndian.Uint64(v)), nil
		case fd.DataTypeOID == oidFloat4 && len(v) == 4:
			return float64(math.Float32frombits(binary.BigEndian.Uint32(v))), nil
		}
	}
	var f float64
	err := tm.Scan(fd.DataTypeOID, fd.Format, v, &f)
	return f, err
}

// decodeText reads a text value ("" for NULL); with strs, through the
// intern table (for columns with few distinct values).
func decodeText(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map, strs *internTable) (string, error) {
	if v == nil {
		return "", nil
	}
	if fd.DataTypeOID == oidText || fd.DataTypeOID == oidVarchar { // text and binary formats are the same bytes
		if strs != nil {
			return strs.get(v), nil
		}
		return string(v), nil
	}
	var s string
	err := tm.Scan(fd.DataTypeOID, fd.Format, v, &s)
	return s, err
}

// decodeTime reads a timestamptz (the zero time for NULL) as pgx does: in
// the local time zone, to the microsecond.
func decodeTime(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	if fd.Format == binaryFormat && fd.DataTypeOID == oidTimestamptz && len(v) == 8 {
		us := int64(binary.BigEndian.Uint64(v))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return time.Time{}, errors.New("cannot read an infinite timestamp")
		}
		us += pgEpochMicros
		return time.Unix(us/1000000, (us%1000000)*1000), nil
	}
	var t time.Time
	err := tm.Scan(fd.DataTypeOID, fd.Format, v, &t)
	return t, err
}

// decodeJSON returns a JSON value's text (nil for NULL). The bytes of the
// binary format are only valid until the next row, as r's are.
func decodeJSON(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	switch {
	case fd.DataTypeOID == oidJSONB && fd.Format == binaryFormat:
		if len(v) == 0 || v[0] != 1 {
			return nil, errors.New("unknown jsonb binary version")
		}
		return v[1:], nil
	case fd.DataTypeOID == oidJSON || fd.DataTypeOID == oidJSONB: // text format
		return v, nil
	}
	var b []byte
	err := tm.Scan(fd.DataTypeOID, fd.Format, v, &b)
	return b, err
}

// decodeTags reads a text[] into r.tags' reused storage, with interned
// elements (tags come from a small vocabulary).
func (r *envRow) decodeTags(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	if fd.Format != binaryFormat || fd.DataTypeOID != oidTextArray {
		var tags []string
		err := tm.Scan(fd.DataTypeOID, fd.Format, v, &tags)
		return tags, err
	}
	// ndim, has-nulls flag, element type, then per dimension its length
	// and lower bound, then each element as length + bytes.
	bad := errors.New("malformed text[]")
	if len(v) < 12 {
		return nil, bad
	}
	ndim := int(int32(binary.BigEndian.Uint32(v)))
	tags := r.tags[:0]
	if ndim == 0 {
		return tags, nil
	}
	if ndim != 1 || len(v) < 20 {
		return nil, fmt.Errorf("a text[] of %d dimensions", ndim)
	}
	n := int(int32(binary.BigEndian.Uint32(v[12:])))
	p := v[20:]
	for range n {
		if len(p) < 4 {
			return nil, bad
		}
		l := int(int32(binary.BigEndian.Uint32(p)))
		p = p[4:]
		if l < 0 {
			return nil, errors.New("a NULL element in text[]")
		}
		if len(p) < l {
			return nil, bad
		}
		tags = append(tags, r.strs.get(p[:l]))
		p = p[l:]
	}
	return tags, nil
}

// internTable hands out one string per distinct value, so values that
// repeat across rows (status, tags, segments) cost no allocation after
// the first. It stops adding once full, so memory stays bounded.
type internTable struct{ m map[string]string }

const maxInterned = 4096

func (t *internTable) get(b []byte) string {
	if s, ok := t.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if t.m == nil {
		t.m = map[string]string{}
	}
	if len(t.m) < maxInterned {
		t.m[s] = s
	}
	return s
}

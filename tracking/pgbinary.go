package tracking

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The click path's array parameters (the inbox insert's, the fold's events
// insert) write their own binary form. pgx encodes an array element by
// element through its plan machinery (an interface value, a plan lookup
// and a type switch per element) and grows its parameter buffer a few
// bytes at a time: in a profile of bench/tracking that was ≈ 3 µs of
// peykar's CPU per click for the arrays' encoding and ≈ 1.5 µs more for
// the buffer's regrowth. These types append each array in one pass, into
// room reserved once for all of a statement's arrays (reserve).
//
// pgx has no hook for a value that encodes itself as an array, so the
// connection's type map gets one: useBinaryArrays wraps the codec of the
// five array types these values stand for (binArrayCodec), which plans
// them itself and hands every other value to the codec it wraps. Without
// the wrapper the slice types still encode, through pgx's slice plans
// (their underlying types are plain slices), as before.

// binArray is an array parameter that appends PostgreSQL's binary array
// format itself.
type binArray interface {
	// arrayOID is the array type's OID (the parameter's type).
	arrayOID() uint32
	// room is how many bytes to reserve before appendBinary: at least
	// what it appends.
	room() int
	// appendBinary appends the array in binary format.
	appendBinary(buf []byte) []byte
}

// The element and array OIDs of the types below (pg_type).
const (
	oidBool, oidBoolArray               = 16, 1000
	oidInt8, oidInt8Array               = 20, 1016
	oidInt4, oidInt4Array               = 23, 1007
	oidText, oidTextArray               = 25, 1009
	oidTimestamptz, oidTimestamptzArray = 1184, 1185
)

var binArrayOIDs = [...]uint32{oidBoolArray, oidInt8Array, oidInt4Array, oidTextArray, oidTimestamptzArray}

type (
	// int8s is a bigint[] without NULLs.
	int8s []int64
	// int4s is an int[]; an element that is not Valid is NULL.
	int4s []pgtype.Int4
	// texts is a text[] without NULLs ("" is ""). Its strings must be
	// valid UTF-8 without NUL bytes (cleanText), as for any text value.
	texts []string
	// bools is a bool[] without NULLs.
	bools []bool
	// timestamptzs is a timestamptz[] without NULLs, to the microsecond
	// (truncated, as pgx does).
	timestamptzs []time.Time
)

// arrayHeaderLen is a one-dimensional array's header: dimensions, the
// has-NULLs flag, the element type, then the dimension's length and lower
// bound.
const arrayHeaderLen = 20

// appendArrayHeader appends a one-dimensional array's header (an empty
// array has no dimension).
func appendArrayHeader(buf []byte, n int, nulls bool, elem uint32) []byte {
	if n == 0 {
		buf = binary.BigEndian.AppendUint32(buf, 0)
		buf = binary.BigEndian.AppendUint32(buf, 0)
		return binary.BigEndian.AppendUint32(buf, elem)
	}
	flag := uint32(0)
	if nulls {
		flag = 1
	}
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, flag)
	buf = binary.BigEndian.AppendUint32(buf, elem)
	buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	return binary.BigEndian.AppendUint32(buf, 1)
}

func (int8s) arrayOID() uint32 { return oidInt8Array }
func (a int8s) room() int      { return arrayHeaderLen + 12*len(a) }
func (a int8s) appendBinary(buf []byte) []byte {
	buf = appendArrayHeader(buf, len(a), false, oidInt8)
	for _, v := range a {
		buf = binary.BigEndian.AppendUint32(buf, 8)
		buf = binary.BigEndian.AppendUint64(buf, uint64(v))
	}
	return buf
}

func (int4s) arrayOID() uint32 { return oidInt4Array }
func (a int4s) room() int      { return arrayHeaderLen + 8*len(a) }
func (a int4s) appendBinary(buf []byte) []byte {
	nulls := false
	for _, v := range a {
		if !v.Valid {
			nulls = true
			break
		}
	}
	buf = appendArrayHeader(buf, len(a), nulls, oidInt4)
	for _, v := range a {
		if !v.Valid {
			buf = binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF) // -1: NULL
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, 4)
		buf = binary.BigEndian.AppendUint32(buf, uint32(v.Int32))
	}
	return buf
}

func (texts) arrayOID() uint32 { return oidTextArray }
func (a texts) room() int {
	n := arrayHeaderLen + 4*len(a)
	for _, s := range a {
		n += len(s)
	}
	return n
}
func (a texts) appendBinary(buf []byte) []byte {
	buf = appendArrayHeader(buf, len(a), false, oidText)
	for _, s := range a {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
		buf = append(buf, s...)
	}
	return buf
}

func (bools) arrayOID() uint32 { return oidBoolArray }
func (a bools) room() int      { return arrayHeaderLen + 5*len(a) }
func (a bools) appendBinary(buf []byte) []byte {
	buf = appendArrayHeader(buf, len(a), false, oidBool)
	for _, v := range a {
		b := byte(0)
		if v {
			b = 1
		}
		buf = binary.BigEndian.AppendUint32(buf, 1)
		buf = append(buf, b)
	}
	return buf
}

// usecFromUnixToY2K is PostgreSQL's epoch (2000-01-01 UTC) in microseconds
// since the Unix epoch.
const usecFromUnixToY2K = 946_684_800 * 1_000_000

func (timestamptzs) arrayOID() uint32 { return oidTimestamptzArray }
func (a timestamptzs) room() int      { return arrayHeaderLen + 12*len(a) }
func (a timestamptzs) appendBinary(buf []byte) []byte {
	buf = appendArrayHeader(buf, len(a), false, oidTimestamptz)
	for _, t := range a {
		buf = binary.BigEndian.AppendUint32(buf, 8)
		buf = binary.BigEndian.AppendUint64(buf, uint64(t.Unix()*1_000_000+int64(t.Nanosecond())/1000-usecFromUnixToY2K))
	}
	return buf
}

// reserved is a statement's first array parameter, reserving room for all
// of the statement's arrays: pgx appends every parameter of a statement to
// one buffer, so this grows it once instead of once per array and again
// as each array outgrows it.
type reserved struct {
	binArray
	total int
}

func (r reserved) room() int { return r.total }

// roomOf is the room reserved by args (reserve's), 0 for other arguments.
func roomOf(args []any) int {
	if len(args) == 0 {
		return 0
	}
	if r, ok := args[0].(reserved); ok {
		return r.total
	}
	return 0
}

// reserve returns arrays as a statement's arguments, the first reserving
// room for all of them; roomOf(args) is that room.
func reserve(arrays ...binArray) []any {
	total := 0
	for _, a := range arrays {
		total += a.room()
	}
	args := make([]any, len(arrays))
	for i, a := range arrays {
		args[i] = a
	}
	if len(arrays) > 0 {
		args[0] = reserved{arrays[0], total}
	}
	return args
}

// useBinaryArrays wraps m's codecs of the array types above so that the
// binArray values encode themselves. It costs a few map lookups once a
// connection's map is wrapped; call it before each statement that passes
// binArrays on a connection (the pool's connections are wrapped as they
// come).
func useBinaryArrays(m *pgtype.Map) {
	for _, oid := range binArrayOIDs {
		t, ok := m.TypeForOID(oid)
		if !ok {
			continue
		}
		if _, done := t.Codec.(binArrayCodec); done {
			continue
		}
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: binArrayCodec{t.Codec}})
	}
}

// binArrayCodec is an array type's codec that plans binArrays itself and
// leaves every other value (and all decoding) to the codec it wraps.
type binArrayCodec struct {
	pgtype.Codec
}

// PlanEncode implements pgtype.Codec.
func (c binArrayCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if a, ok := value.(binArray); ok && format == pgtype.BinaryFormatCode && a.arrayOID() == oid {
		return binArrayPlan{}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

// binArrayPlan appends a binArray, in the room it asks for.
type binArrayPlan struct{}

// Encode implements pgtype.EncodePlan.
func (binArrayPlan) Encode(value any, buf []byte) ([]byte, error) {
	a := value.(binArray)
	return a.appendBinary(slices.Grow(buf, a.room())), nil
}

// wireRoom is a protocol message of no bytes whose encoding grows a
// connection's outgoing buffer by its value (reserveWire).
type wireRoom int

// Frontend implements pgproto3.FrontendMessage.
func (wireRoom) Frontend() {}

// Decode implements pgproto3.Message; a wireRoom is never received.
func (wireRoom) Decode([]byte) error { return errors.New("tracking: wireRoom is not a message") }

// Encode implements pgproto3.Message: it appends nothing.
func (n wireRoom) Encode(dst []byte) ([]byte, error) { return slices.Grow(dst, int(n)), nil }

// reserveWire grows conn's outgoing buffer by n bytes for the statement
// or batch it sends next. pgx drops a buffer over 1 KB after each send and
// grows the next one append by append: for a batch of a few hundred
// events that was a dozen reallocations and copies of up to hundreds of
// KB (Bind.Encode's growslice, ≈ 1.5 µs of peykar's CPU per click in
// bench/tracking's profile). The bytes sent are the same; only the
// buffer's capacity changes. Below 1 KB it does nothing (pgx keeps that
// buffer).
func reserveWire(conn *pgx.Conn, n int) {
	if n <= 1024 {
		return
	}
	conn.PgConn().Frontend().Send(wireRoom(n))
}

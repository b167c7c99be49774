package tracking

import "github.com/jackc/pgx/v5/pgtype"

// ptrArray is a one-dimensional array parameter whose elements pgx reads
// through pointers. pgx's own slices (and FlatArray) hand each element to
// its encoder as an interface value, which costs an allocation per string,
// time or pointer: several per click in the inbox's batch. A pointer to
// the element fits the interface as it is; with pgtype's element types
// (Text, Int4, Timestamptz, ...) the binary encoding is the same as
// pgx's for the plain Go types, NULL included (Valid false).
type ptrArray[T any] []T

// Dimensions implements pgtype.ArrayGetter.
func (a ptrArray[T]) Dimensions() []pgtype.ArrayDimension {
	if a == nil {
		return nil
	}
	return []pgtype.ArrayDimension{{Length: int32(len(a)), LowerBound: 1}}
}

// Index implements pgtype.ArrayGetter.
func (a ptrArray[T]) Index(i int) any { return &a[i] }

// IndexType implements pgtype.ArrayGetter.
func (a ptrArray[T]) IndexType() any { return new(T) }

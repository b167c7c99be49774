package contacts

import (
	"strings"
	"unicode"

	"github.com/peykar/peykar/internal/errs"
)

// The file delimiters an import accepts (ImportOptions.Delimiter).
const (
	DelimiterComma     = "comma"     // , (the default)
	DelimiterSemicolon = "semicolon" // ; (spreadsheets in locales whose decimal mark is a comma)
	DelimiterTab       = "tab"       // tab-separated values
)

// The separators of tags inside the tags column (ImportOptions.TagSeparator).
const (
	TagsSemicolon = "semicolon" // ; — and | too, as before the choice existed (the default)
	TagsComma     = "comma"     // , (a quoted field in a comma-delimited file)
	TagsPipe      = "pipe"      // |
	TagsSpace     = "space"     // any white space
)

// ImportOptions are an import's choices.
type ImportOptions struct {
	// Mode is ModeUpsert (default) or ModeSkipExisting.
	Mode string
	// Delimiter separates the file's columns: DelimiterComma (default),
	// DelimiterSemicolon or DelimiterTab.
	Delimiter string
	// TagSeparator separates the tags in the tags column: TagsSemicolon
	// (default: ";" or "|"), TagsComma, TagsPipe or TagsSpace.
	TagSeparator string
}

// withDefaults fills the empty choices and checks the others: an unknown
// value is an errs.Invalid error on its field (mode, delimiter,
// tag_separator).
func (o ImportOptions) withDefaults() (ImportOptions, error) {
	if o.Mode == "" {
		o.Mode = ModeUpsert
	}
	if o.Delimiter == "" {
		o.Delimiter = DelimiterComma
	}
	if o.TagSeparator == "" {
		o.TagSeparator = TagsSemicolon
	}
	if o.Mode != ModeUpsert && o.Mode != ModeSkipExisting {
		return o, errs.Field("mode", "must be upsert or skip-existing")
	}
	if _, ok := delimiters[o.Delimiter]; !ok {
		return o, errs.Field("delimiter", "must be comma, semicolon or tab, not %q", o.Delimiter)
	}
	if _, ok := tagSplitters[o.TagSeparator]; !ok {
		return o, errs.Field("tag_separator", "must be semicolon, comma, pipe or space, not %q", o.TagSeparator)
	}
	// A separator equal to the delimiter is allowed: the tags field is then
	// quoted ("vip,new"), which CSV reads as one field.
	return o, nil
}

var delimiters = map[string]rune{DelimiterComma: ',', DelimiterSemicolon: ';', DelimiterTab: '\t'}

var tagSplitters = map[string]func(rune) bool{
	TagsSemicolon: func(r rune) bool { return r == ';' || r == '|' },
	TagsComma:     func(r rune) bool { return r == ',' },
	TagsPipe:      func(r rune) bool { return r == '|' },
	TagsSpace:     unicode.IsSpace,
}

// splitTags splits a tags field with the chosen separator.
func (o ImportOptions) splitTags(v string) []string {
	return strings.FieldsFunc(v, tagSplitters[o.TagSeparator])
}

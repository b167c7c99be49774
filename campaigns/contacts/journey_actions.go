package contacts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/peykar/peykar/internal/errs"
)

// SetAttribute sets one attribute of a contact (follow-up rules'
// set_attribute action). value must be JSON-encodable.
func SetAttribute(ctx context.Context, db DBTX, contactID int64, name string, value any) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return errs.Field("name", "attribute name is required")
	}
	b, err := json.Marshal(value)
	if err != nil {
		return errs.Field("value", "cannot be stored as JSON: %v", err)
	}
	tag, err := db.Exec(ctx, query("set_attribute"), contactID, name, b)
	if err != nil {
		return fmt.Errorf("set attribute %q of contact %d: %w", name, contactID, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "no contact %d", contactID)
	}
	return nil
}

// AddTag adds a tag to a contact unless it has it.
func AddTag(ctx context.Context, db DBTX, contactID int64, tag string) error {
	tags, err := normalizeTags([]string{tag})
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return errs.Field("tag", "is required")
	}
	_, err = db.Exec(ctx, query("add_tag"), contactID, tags[0])
	if err != nil {
		return fmt.Errorf("add tag to contact %d: %w", contactID, err)
	}
	return nil
}

// RemoveTag removes a tag from a contact.
func RemoveTag(ctx context.Context, db DBTX, contactID int64, tag string) error {
	tags, err := normalizeTags([]string{tag})
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return errs.Field("tag", "is required")
	}
	_, err = db.Exec(ctx, query("remove_tag"), contactID, tags[0])
	if err != nil {
		return fmt.Errorf("remove tag from contact %d: %w", contactID, err)
	}
	return nil
}

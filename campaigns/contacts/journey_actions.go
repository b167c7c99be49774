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
	tag, err := db.Exec(ctx, `UPDATE contacts SET attributes = attributes || jsonb_build_object($2::text, $3::jsonb), updated_at = now()
		WHERE id = $1 AND status <> 'erased'`, contactID, name, b)
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
	_, err = db.Exec(ctx, `UPDATE contacts SET tags = array_append(tags, $2), updated_at = now()
		WHERE id = $1 AND status <> 'erased' AND NOT ($2 = ANY(tags))`, contactID, tags[0])
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
	_, err = db.Exec(ctx, `UPDATE contacts SET tags = array_remove(tags, $2), updated_at = now()
		WHERE id = $1 AND $2 = ANY(tags)`, contactID, tags[0])
	if err != nil {
		return fmt.Errorf("remove tag from contact %d: %w", contactID, err)
	}
	return nil
}

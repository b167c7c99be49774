package contacts

import "github.com/peykar/peykar/internal/profile"

// Profile returns the contact's own fields as templates, follow-up rules
// and segments see them; the one place they are copied from a stored
// contact.
func (c Contact) Profile() profile.Contact {
	return profile.Contact{ID: c.ID, Email: c.Email, Name: c.Name, Attributes: c.Attributes, Tags: c.Tags,
		Status: c.Status, CreatedAt: c.CreatedAt}
}

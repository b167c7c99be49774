package segments

import (
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The segment language's topics: contact.topics is the list of the names
// of the topics a contact is subscribed to (status subscribed: pending and
// unsubscribed do not count), compared exactly as written, like tags:
//
//	"News" in contact.topics
//	not ("Offers" in contact.topics)
//	len(contact.topics) == 0   (runs in Go)
//
// contact_topics and topics are package topics'; the segment only reads
// them, on both paths with the same definition.

// topicNamesColumn is contact.topics for the Go path, sorted by name.
const topicNamesColumn = `ARRAY(SELECT t.name FROM contact_topics ct JOIN topics t ON t.id = ct.topic_id
	WHERE ct.contact_id = c.id AND ct.status = 'subscribed' ORDER BY t.name)`

// topicMemberSQL is `name in contact.topics` for the SQL path, name being
// a parameter placeholder.
func topicMemberSQL(name string) string {
	return `EXISTS (SELECT 1 FROM contact_topics ct JOIN topics t ON t.id = ct.topic_id
	WHERE ct.contact_id = c.id AND ct.status = 'subscribed' AND t.name = ` + name + `::text)`
}

// decodeTopics reads the topics column (a text[], never NULL).
func decodeTopics(v []byte, fd *pgconn.FieldDescription, tm *pgtype.Map) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	var names []string
	err := tm.Scan(fd.DataTypeOID, fd.Format, v, &names)
	return names, err
}

package checks

import (
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/views"
)

// columns are the table's headers, as `checks list` has them.
var columns = []string{"Name", "Status", "Machine", "Region", "Updated", "Output"}

// statusCol is the column styled by the check's status.
const statusCol = 1

// rows turns checks into table rows: the first output line, and the
// age of the last change.
func rows(cs []backend.Check, now time.Time) [][]string {
	out := make([][]string, len(cs))
	for i, c := range cs {
		first := ""
		if len(c.Output) > 0 {
			first = c.Output[0]
		}
		updated := "-"
		if !c.Updated.IsZero() {
			updated = views.Duration(now.Sub(c.Updated)) + " ago"
		}
		out[i] = []string{c.Name, c.Status, c.Machine, c.Region, updated, first}
	}
	return out
}

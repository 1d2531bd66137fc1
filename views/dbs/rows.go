package dbs

import (
	"strings"

	"github.com/pgtui/pgtui/backend"
)

// columns are the table's headers, as `db list` has them.
var columns = []string{"Name", "Users"}

// rows turns databases into table rows.
func rows(ds []backend.Database) [][]string {
	out := make([][]string, len(ds))
	for i, d := range ds {
		out[i] = []string{d.Name, strings.Join(d.Users, ",")}
	}
	return out
}

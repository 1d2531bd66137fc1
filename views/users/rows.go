package users

import (
	"fmt"
	"strings"

	"github.com/pgtui/pgtui/backend"
)

// columns are the users table's headers, as `users list` has them.
var columns = []string{"Name", "Superuser", "Databases"}

// rows turns users into table rows, as `users list` prints them.
func rows(us []backend.User) [][]string {
	out := make([][]string, len(us))
	for i, u := range us {
		out[i] = []string{u.Name, fmt.Sprint(u.Superuser), strings.Join(u.Databases, ",")}
	}
	return out
}

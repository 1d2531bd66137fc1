package clusters

import (
	"fmt"

	"github.com/pgtui/pgtui/backend"
)

// columns are the list's headers.
var columns = []string{"Name", "State", "Platform", "Region", "Healthy", "Leader"}

// rows turns clusters into table rows.
func rows(cs []backend.ClusterSummary) [][]string {
	out := make([][]string, len(cs))
	for i, c := range cs {
		leader := c.Leader
		if leader == "" {
			leader = "-"
		}
		platform := c.Platform
		if platform == "" {
			platform = "local"
		}
		out[i] = []string{c.Name, c.State, platform, c.Region, fmt.Sprintf("%d/%d", c.Healthy, c.Machines), leader}
	}
	return out
}

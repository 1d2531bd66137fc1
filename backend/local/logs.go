package local

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/pgtui/pgtui/backend"
)

// Logs streams log lines; the channel closes when the agent ends the
// stream (no follow) or ctx ends.
func (c *Client) Logs(ctx context.Context, cluster string, f backend.LogFilter) (<-chan backend.LogLine, error) {
	q := url.Values{}
	if f.Machine != "" {
		q.Set("machine", f.Machine)
	}
	if f.Follow {
		q.Set("follow", "1")
	}
	if f.Lines > 0 {
		q.Set("lines", strconv.Itoa(f.Lines))
	}
	resp, err := c.send(ctx, "GET", "/v1/clusters/"+esc(cluster)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	out := make(chan backend.LogLine, 256)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l backend.LogLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			select {
			case out <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

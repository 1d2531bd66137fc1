package local

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"time"

	"github.com/pgtui/pgtui/backend"
)

// MetricsStream follows the agent's samples of a cluster. The channel
// holds the newest unread sample only; it closes when the agent ends the
// stream (the cluster is gone) or ctx ends.
func (c *Client) MetricsStream(ctx context.Context, cluster string, every time.Duration) (<-chan backend.MetricsSample, error) {
	q := url.Values{"every": {backend.MetricsEvery(every).String()}}
	resp, err := c.send(ctx, "GET", "/v1/clusters/"+esc(cluster)+"/metrics/stream?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	out := make(chan backend.MetricsSample, 1)
	go func() {
		defer close(out)
		defer resp.Body.Close() // ctx ending fails the read in relaySamples
		relaySamples(resp.Body, out)
	}()
	return out, nil
}

// relaySamples decodes NDJSON samples from r into out until r ends,
// replacing an unread sample rather than waiting for the reader.
func relaySamples(r io.Reader, out chan backend.MetricsSample) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var s backend.MetricsSample
		if json.Unmarshal(sc.Bytes(), &s) != nil {
			continue
		}
		backend.SendLatest(out, s)
	}
}

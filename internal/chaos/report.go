package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// finalLost checks, with the writers stopped, that every acknowledged id
// is on the leader and that every replica has the same rows (count and
// checksum) once it has replayed everything.
func (h *harness) finalLost(ctx context.Context, all []ack) (int, error) {
	if _, err := h.converge(ctx); err != nil {
		return 0, err
	}
	ids := make([]int64, len(all))
	for i, a := range all {
		ids[i] = a.ID
	}
	leaderURL := h.c.DirectURL(h.leader())
	var missing []int64
	err := withRetry(ctx, func() error {
		var err error
		missing, err = missingIDs(ctx, leaderURL, ids)
		return err
	})
	if err != nil {
		return 0, err
	}
	want, err := fingerprint(ctx, leaderURL)
	if err != nil {
		return 0, err
	}
	for _, n := range h.c.Nodes {
		url := h.c.DirectURL(n)
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := fingerprint(ctx, url)
			if err == nil && got == want {
				break
			}
			if time.Now().After(deadline) {
				return len(missing), fmt.Errorf("replica %s does not match the leader: %s vs %s (%v)", n.Name, got, want, err)
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	fmt.Printf("replicas match the leader: %s\n", want)
	return len(missing), nil
}

func missingIDs(ctx context.Context, url string, ids []int64) ([]int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT a FROM unnest($1::bigint[]) a WHERE NOT EXISTS (SELECT 1 FROM chaos WHERE id = a)`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func fingerprint(ctx context.Context, url string) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var n, sum int64
	err = conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(hashint8(id)::bigint), 0) FROM chaos`).Scan(&n, &sum)
	return fmt.Sprintf("%d rows, checksum %d", n, sum), err
}

func withRetry(ctx context.Context, f func() error) error {
	var err error
	for i := 0; i < 20; i++ {
		if err = f(); err == nil {
			return nil
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
	return err
}

// summary aggregates results per fault kind.
type summary struct {
	kinds                   []string
	partitionSkip           string // why partitions were not run, "" if they were
	rows                    map[string]*kindRow
	acked, lost, splitBrain int
	seed                    uint64
	took                    time.Duration
	faults                  int
	hosts                   int // hosts mode: the cluster spreads over this many hosts
}

type kindRow struct {
	trials              int
	maxUnavail, maxConv time.Duration
	lost                int
	errors              int
}

func summarize(rs []result, kinds []string, partitionSkip string, acked, lost, sb int, seed uint64, took time.Duration) summary {
	s := summary{rows: map[string]*kindRow{}, partitionSkip: partitionSkip, acked: acked, lost: lost, splitBrain: sb, seed: seed, took: took, faults: len(rs)}
	for _, k := range kinds {
		s.kinds = append(s.kinds, k)
		s.rows[k] = &kindRow{}
	}
	for _, r := range rs {
		row := s.rows[r.kind]
		row.trials++
		row.maxUnavail = max(row.maxUnavail, r.unavailable)
		row.maxConv = max(row.maxConv, r.converge)
		row.lost += r.lost
		if r.err != nil {
			row.errors++
		}
	}
	return s
}

func (s summary) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-26s %6s %16s %12s %12s %10s\n", "fault", "trials", "max unavailable", "max converge", "lost acked", "split brain")
	for _, k := range s.kinds {
		r := s.rows[k]
		fmt.Fprintf(&b, "%-26s %6d %16s %12s %12d %10s\n", k, r.trials, r.maxUnavail.Round(time.Millisecond), r.maxConv.Round(time.Millisecond), r.lost, "-")
	}
	if s.partitionSkip != "" {
		fmt.Fprintf(&b, "%-26s %6s %16s %12s %12s %10s\n", "network partition", "0", "not run", "", "", "")
	}
	fmt.Fprintf(&b, "acknowledged writes: %d, lost: %d, split-brain intervals: %d, run took %s\n", s.acked, s.lost, s.splitBrain, s.took.Round(time.Second))
	return b.String()
}

func (s summary) markdown() string {
	var b strings.Builder
	if s.hosts > 0 {
		s.hostsIntro(&b)
	} else {
		s.intro(&b)
	}
	b.WriteString("| fault | trials | max write unavailability | max convergence | lost acked writes |\n|---|---|---|---|---|\n")
	for _, k := range s.kinds {
		r := s.rows[k]
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d |\n", k, r.trials, r.maxUnavail.Round(time.Millisecond), r.maxConv.Round(time.Millisecond), r.lost)
	}
	if s.hosts > 0 {
		b.WriteString("\n")
	} else {
		s.notes(&b)
	}
	fmt.Fprintf(&b, "Acknowledged writes: %d. Lost: %d. Split-brain intervals: %d.\n\n", s.acked, s.lost, s.splitBrain)
	fmt.Fprintf(&b, "`chaos: %d faults, %d lost acknowledged writes, %d split-brain intervals, seed %d`\n", s.faults, s.lost, s.splitBrain, s.seed)
	return b.String()
}

func (s summary) hostsIntro(b *strings.Builder) {
	fmt.Fprintf(b, "# Reliability across hosts\n\nWritten by `make chaos CHAOS_HOSTS=%d` on %s, seed %d, %d faults, %s.\n\n", s.hosts, time.Now().UTC().Format("2006-01-02"), s.seed, s.faults, s.took.Round(time.Second))
	fmt.Fprintf(b, "A real cluster over %d hosts (network namespaces on a bridge, each with its own address), each running one ", s.hosts)
	b.WriteString("member of a three-member etcd cluster over TLS with client certificates and one `pgtui node` (sync mode, lease TTL 2 s). ")
	b.WriteString("Three writers, one through each host's proxy, do unique inserts. A host kill SIGKILLs every process of the host; ")
	b.WriteString("a partition takes the host's link down (open connections stall), with a client inside the leader's host writing to its ")
	b.WriteString("postgres throughout; etcd faults kill the raft leader, the member on the database leader's host, or stop two members ")
	b.WriteString("(no quorum: the leader must refuse writes) and start them again. After each fault the harness waits for all etcd ")
	b.WriteString("members, one leader with two streaming replicas and a settled sync standby, then checks that every acknowledged insert ")
	b.WriteString("is on the leader. At the end every replica must match the leader and no older primary may have acknowledged a write ")
	b.WriteString("after a newer one (split brain).\n\n")
}

func (s summary) intro(b *strings.Builder) {
	fmt.Fprintf(b, "# Reliability\n\nWritten by `make chaos` on %s, seed %d, %d faults, %s.\n\n", time.Now().UTC().Format("2006-01-02"), s.seed, s.faults, s.took.Round(time.Second))
	b.WriteString("A real 3-node cluster (sync mode, lease TTL 2 s) under three writers, one through each node's proxy, ")
	b.WriteString("doing unique inserts. After each fault the harness waits for one leader with two streaming replicas and a ")
	b.WriteString("settled sync standby, then checks that every acknowledged insert is on the leader. At the end, with writers ")
	b.WriteString("stopped, every replica must match the leader (row count and checksum), and no node may have acknowledged a ")
	b.WriteString("write on an older timeline after another node acknowledged one on a newer timeline (split brain).\n\n")
}

func (s summary) notes(b *strings.Builder) {
	if s.partitionSkip != "" {
		fmt.Fprintf(b, "| network partition of the leader | 0 | not run: %s | | |\n", s.partitionSkip)
	}
	b.WriteString("\nThe volume fault raises the read-only threshold above the leader's free space (the same code path as a filling disk) and lowers it again.")
	if s.partitionSkip == "" {
		b.WriteString(" Each node runs in its own network namespace on a bridge; the partition takes the leader's link down, cutting it off from the store, its peers and the clients at once, until another member leads, then heals it. ")
		b.WriteString("A client inside the leader's namespace keeps writing to its postgres throughout: its acknowledged writes count in the lost and split-brain checks.")
	}
	b.WriteString("\n\n")
}

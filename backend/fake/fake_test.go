package fake_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/fake"
)

var _ backend.Backend = (*fake.Backend)(nil)

var req = backend.CreateRequest{Name: "pg", Org: "personal", Region: "iad", VMSize: "shared-cpu-1x", VolumeGB: 10, InitialClusterSize: 3}

func drain(t *testing.T, ch <-chan backend.CreateEvent) []backend.CreateEvent {
	t.Helper()
	var evs []backend.CreateEvent
	for ev := range ch {
		evs = append(evs, ev)
	}
	return evs
}

func TestCreateStreamsDeployment(t *testing.T) {
	ctx := context.Background()
	b := fake.New()
	ch, err := b.CreateCluster(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	evs := drain(t, ch)
	if evs[0].Credentials == nil || evs[0].Credentials.Password != fake.SeedPassword {
		t.Fatalf("first event lacks credentials: %+v", evs[0])
	}
	last := evs[len(evs)-1]
	if !last.Done || last.Healthy != 3 || last.ChecksPassing != 9 || last.Error != "" {
		t.Fatalf("last event = %+v", last)
	}
	if _, err := b.CreateCluster(ctx, req); err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Fatalf("second create: %v", err)
	}
	bad := req
	bad.VolumeGB = 0
	if _, err := b.CreateCluster(ctx, bad); err == nil {
		t.Fatal("invalid request accepted")
	}
}

func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	var sts []*backend.ClusterStatus
	for range 2 {
		b := fake.New()
		drain(t, must(b.CreateCluster(ctx, req)))
		st, err := b.Status(ctx, "pg")
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	if !reflect.DeepEqual(sts[0], sts[1]) {
		t.Fatalf("two runs differ:\n%+v\n%+v", sts[0], sts[1])
	}
	if sts[0].Machines[0].ID != "0e286f3c" || sts[0].Leader != "6b97fa06" || !sts[0].Machines[0].Created.After(fake.Epoch()) {
		t.Fatalf("unexpected ids or times: %+v", sts[0])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFailoverScaleAndStop(t *testing.T) {
	ctx := context.Background()
	b := fake.New()
	if _, err := b.AddCluster(req); err != nil {
		t.Fatal(err)
	}
	res, err := b.Failover(ctx, "pg")
	if err != nil || res.OldLeader != "6b97fa06" || res.NewLeader != "da8141e7" {
		t.Fatalf("failover = %+v, %v", res, err)
	}
	if err := b.MachineAction(ctx, "pg", "da8141e7", backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	st := must(b.Status(ctx, "pg"))
	if st.Leader != "0e286f3c" || st.Deployment.Healthy != 2 || st.Deployment.Unhealthy != 1 {
		t.Fatalf("stopped leader not replaced: %+v", st)
	}
	if err := b.ScaleCount(ctx, "pg", 1, ""); err != nil {
		t.Fatal(err)
	}
	st = must(b.Status(ctx, "pg"))
	if len(st.Machines) != 1 || st.Machines[0].ID != st.Leader {
		t.Fatalf("scale down removed the leader: %+v", st)
	}
	if err := b.ScaleCount(ctx, "pg", 0, ""); err == nil {
		t.Fatal("scale to 0 accepted")
	}
}

func TestAttachEnvDetach(t *testing.T) {
	ctx := context.Background()
	b := fake.New()
	if _, err := b.AddCluster(req); err != nil {
		t.Fatal(err)
	}
	if err := b.AddApp("my-app", ""); err != nil {
		t.Fatal(err)
	}
	att, err := b.Attach(ctx, backend.AttachRequest{Cluster: "pg", App: "my-app"})
	if err != nil || att.User != "my_app" || att.Database != "my_app" || !strings.Contains(att.URL, "@pg.internal:5432/my_app") {
		t.Fatalf("attach = %+v, %v", att, err)
	}
	if _, err := b.Attach(ctx, backend.AttachRequest{Cluster: "pg", App: "my-app"}); err == nil {
		t.Fatal("second attach accepted")
	}
	env := must(b.AppEnv(ctx, "my-app"))
	if !strings.Contains(env["DATABASE_URL"], "@127.0.1.2:5432/my_app") {
		t.Fatalf("env not rewritten: %v", env)
	}
	if err := b.Detach(ctx, "pg", "my-app"); err != nil {
		t.Fatal(err)
	}
	users := must(b.ListUsers(ctx, "pg"))
	dbs := must(b.ListDatabases(ctx, "pg"))
	if len(users) != 3 || len(dbs) != 2 {
		t.Fatalf("detach should drop the user and keep the database: %v %v", users, dbs)
	}
	if got := b.Calls(); len(got) != 6 || b.Called("Attach") != 2 {
		t.Fatalf("calls = %v", got)
	}
}

// TestMetricsStream: a fixed history, the leader named, a stopped
// machine down, the channel open until ctx ends.
func TestMetricsStream(t *testing.T) {
	b := fake.New()
	drain(t, must(b.CreateCluster(context.Background(), req)))
	if err := b.MachineAction(context.Background(), "pg", "0e286f3c", backend.ActionStop); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := b.MetricsStream(ctx, "pg", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []backend.MetricsSample
	for range fake.MetricsHistory {
		got = append(got, <-ch)
	}
	cancel()
	if _, open := <-ch; open {
		t.Fatal("more than the history, or open after ctx ended")
	}
	first, last := got[0], got[len(got)-1]
	if !first.Time.Equal(fake.Epoch().Add(time.Second)) || !last.Time.Equal(fake.Epoch().Add(fake.MetricsHistory*time.Second)) {
		t.Fatalf("times %s .. %s", first.Time, last.Time)
	}
	if last.Leader != "6b97fa06" || len(last.Machines) != 3 {
		t.Fatalf("last sample %+v", last)
	}
	lead, replica, stopped := last.Machines[0], last.Machines[1], last.Machines[2]
	if !lead.Up || lead.TPS < 20 || lead.LagSeconds != 0 || lead.SizeBytes <= first.Machines[0].SizeBytes {
		t.Errorf("leader %+v", lead)
	}
	if !replica.Up || replica.Connections != 2 || replica.TPS < 1 {
		t.Errorf("replica %+v", replica)
	}
	if stopped.Up || stopped.TPS != 0 {
		t.Errorf("stopped machine %+v", stopped)
	}
	if _, err := b.MetricsStream(ctx, "nope", 0); err == nil {
		t.Error("a stream of an unknown cluster")
	}
}

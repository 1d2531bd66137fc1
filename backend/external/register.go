package external

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/backend/hastate"
	"github.com/pgtui/pgtui/backend/nodeclient"
	"github.com/pgtui/pgtui/internal/etcdtls"
	"github.com/pgtui/pgtui/nodeimage/nodeapi"
	"github.com/pgtui/pgtui/nodeimage/store"
)

// AddRequest registers an existing cluster.
type AddRequest struct {
	Name        string
	Endpoints   []string
	TLS         etcdtls.Files
	Credentials Credentials
}

// verifyTimeout bounds reaching the etcd when registering.
const verifyTimeout = 5 * time.Second

// Add checks the request, that the etcd answers and holds the cluster,
// and that the nodes accept the credentials' token (when any answers),
// then saves it. Nothing is written unless every check passed.
func (r *Registry) Add(ctx context.Context, req AddRequest) error {
	if err := backend.ValidateName(req.Name); err != nil {
		return backend.InputError{Err: fmt.Errorf("cluster %w", err)}
	}
	if r.Has(req.Name) {
		return backend.InputError{Err: fmt.Errorf("cluster %s is already registered: `pgtui clusters remove %s` first", req.Name, req.Name)}
	}
	if err := validEndpoints(req.Endpoints); err != nil {
		return backend.InputError{Err: err}
	}
	if req.Credentials.AdminPassword == "" {
		return backend.InputError{Err: fmt.Errorf("the admin password (%s) is required", EnvAdmin)}
	}
	files, err := absFiles(req.TLS)
	if err != nil {
		return err
	}
	cli, err := dialEtcd(req.Endpoints, files)
	if err != nil {
		return err
	}
	defer cli.Close()
	vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	eps := strings.Join(req.Endpoints, ",")
	v, err := hastate.Read(vctx, store.New(cli, req.Name))
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(vctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("etcd %s did not answer within %s: check the endpoints and the TLS flags", eps, verifyTimeout)
	case err != nil:
		return fmt.Errorf("etcd %s: %s", eps, oneLine(err))
	case v.Data == nil:
		return fmt.Errorf("etcd %s holds no pgtui cluster %q (no /pgtui/%s/clusterdata): check the name", eps, req.Name, req.Name)
	}
	if err := checkToken(ctx, req.Name, req.Credentials, v); err != nil {
		return err
	}
	e := Entry{Name: req.Name, Endpoints: req.Endpoints, TLS: files, Added: time.Now().UTC()}
	return r.save(e, req.Credentials)
}

func absFiles(f etcdtls.Files) (etcdtls.Files, error) {
	var err error
	for _, p := range []*string{&f.CACert, &f.Cert, &f.Key} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return f, err
			}
		}
	}
	if _, err := etcdtls.ClientConfig(f); err != nil { // readable and well formed
		return f, err
	}
	return f, nil
}

// checkToken asks the nodes for their checks with the credentials' token:
// a node that refuses it means the admin password is wrong. Nodes that do
// not answer prove nothing either way.
func checkToken(ctx context.Context, name string, c Credentials, v hastate.View) error {
	token := nodeapi.Token(name, c.AdminPassword)
	for _, n := range nodes(v) {
		if n.info == nil {
			continue
		}
		_, err := nodeclient.GetChecks(ctx, n.healthAddr(), token)
		if err == nil {
			return nil
		}
		if strings.Contains(err.Error(), http.StatusText(http.StatusUnauthorized)) {
			return fmt.Errorf("node %s refused the token of these credentials: the admin password (%s) is not this cluster's", n.name, EnvAdmin)
		}
	}
	return nil
}

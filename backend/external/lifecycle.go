package external

import (
	"context"
	"errors"

	"github.com/pgtui/pgtui/backend"
)

// Lifecycle: the engine that runs the nodes owns it.

// CreateCluster is refused: nodes of this platform are started by their engine.
func (b *Backend) CreateCluster(_ context.Context, req backend.CreateRequest) (<-chan backend.CreateEvent, error) {
	return nil, LifecycleError{req.Name}
}

// Restart is refused: restarting a node is its engine's job.
func (b *Backend) Restart(_ context.Context, name string) error { return LifecycleError{name} }

// ScaleVM is refused.
func (b *Backend) ScaleVM(_ context.Context, name, _ string) error { return LifecycleError{name} }

// ScaleCount is refused.
func (b *Backend) ScaleCount(_ context.Context, name string, _ int, _ string) error {
	return LifecycleError{name}
}

// DestroyCluster is refused; `pgtui clusters remove` forgets the registration.
func (b *Backend) DestroyCluster(_ context.Context, name string) error { return LifecycleError{name} }

// MachineAction is refused.
func (b *Backend) MachineAction(_ context.Context, name, _ string, _ backend.MachineAction) error {
	return LifecycleError{name}
}

// Apps live on the local platform; the router sends app calls there.

var errNoApps = errors.New("apps and secrets live on the local platform, not on external clusters")

// CreateApp is not served here.
func (b *Backend) CreateApp(context.Context, string, string) error { return errNoApps }

// ListApps is not served here.
func (b *Backend) ListApps(context.Context) ([]backend.App, error) { return nil, errNoApps }

// DestroyApp is not served here.
func (b *Backend) DestroyApp(context.Context, string) error { return errNoApps }

// ListSecrets is not served here.
func (b *Backend) ListSecrets(context.Context, string) ([]backend.Secret, error) {
	return nil, errNoApps
}

// SetSecrets is not served here.
func (b *Backend) SetSecrets(context.Context, string, map[string]string) error { return errNoApps }

// UnsetSecrets is not served here.
func (b *Backend) UnsetSecrets(context.Context, string, []string) error { return errNoApps }

// AppEnv is not served here.
func (b *Backend) AppEnv(context.Context, string) (map[string]string, error) { return nil, errNoApps }

package users

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pgtui/pgtui/backend"
	"github.com/pgtui/pgtui/internal/password"
	"github.com/pgtui/pgtui/views"
)

// list reads the cluster's users.
func list(b backend.Backend, cluster string) func(ctx context.Context) ([]backend.User, error) {
	return func(ctx context.Context) ([]backend.User, error) {
		us, err := b.ListUsers(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("users of %s: %w", cluster, err)
		}
		return us, nil
	}
}

// created is a create task's value: the password when it was generated.
type created struct {
	user, password string
}

// newUser is what the create prompt collected.
type newUser struct {
	name, password string
	superuser      bool
}

func create(b backend.Backend, id int, cluster string, u newUser) tea.Cmd {
	return views.RunTask(views.Task{ID: "create-user", PaneID: id,
		Start: fmt.Sprintf("Creating user %s on %s…", u.name, cluster),
		Done:  fmt.Sprintf("User %s created on %s", u.name, cluster),
		Run: func(ctx context.Context) (any, error) {
			pw, generated := u.password, u.password == ""
			if generated {
				var err error
				if pw, err = password.Generate(); err != nil {
					return nil, err
				}
			}
			if err := b.CreateUser(ctx, cluster, u.name, pw, u.superuser); err != nil {
				return nil, fmt.Errorf("create user %s on %s: %w", u.name, cluster, err)
			}
			if !generated {
				pw = ""
			}
			return created{user: u.name, password: pw}, nil
		}})
}

func drop(b backend.Backend, id int, cluster, user string) tea.Cmd {
	return views.RunTask(views.Task{ID: "drop-user", PaneID: id,
		Start: fmt.Sprintf("Dropping user %s on %s…", user, cluster),
		Done:  fmt.Sprintf("User %s dropped from %s", user, cluster),
		Run: func(ctx context.Context) (any, error) {
			if err := b.DropUser(ctx, cluster, user); err != nil {
				return nil, fmt.Errorf("drop user %s on %s: %w", user, cluster, err)
			}
			return nil, nil
		}})
}

// parse checks the prompt's values: name, password (empty: generate),
// superuser (yes/no, empty: no).
func parse(values []string) (newUser, error) {
	u := newUser{name: values[0], password: values[1]}
	if err := backend.ValidateIdentifier(u.name); err != nil {
		return u, err
	}
	switch strings.ToLower(values[2]) {
	case "", "n", "no":
	case "y", "yes":
		u.superuser = true
	default:
		return u, fmt.Errorf("superuser %q: answer yes or no", values[2])
	}
	return u, nil
}

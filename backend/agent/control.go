package agent

import (
	"errors"
	"os"
)

func pid() int { return os.Getpid() }

// shutdown stops the agent (the API call behind `pgtui agent stop`).
func (a *Agent) shutdown() error {
	if a.stop == nil {
		return errors.New("agent cannot stop itself")
	}
	go a.stop() // after the reply is written
	return nil
}

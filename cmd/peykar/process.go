package main

import (
	"context"

	"github.com/peykar/peykar/engine"
)

// startProcess registers this process under its River client's id and
// starts its heartbeat, which also rescues the running jobs of processes
// that died (engine.Process); p is also the River middleware that fences
// this process's jobs. Its closer runs after River's (closers run in
// reverse), so the process is marked stopped once its jobs have finished
// or gone back to the queue.
func (m *Main) startProcess(ctx context.Context, p *engine.Process) error {
	if err := p.Start(ctx); err != nil {
		return err
	}
	m.closers = append(m.closers, p.Stop)
	return nil
}

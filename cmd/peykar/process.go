package main

import (
	"context"

	"github.com/peykar/peykar/engine"
)

// startProcess registers this process under its River client's id and
// starts its heartbeat, which also rescues the running jobs of processes
// that died (engine.Process). Its closer runs after River's (closers run
// in reverse), so the process is marked stopped once its jobs have
// finished or gone back to the queue.
func (m *Main) startProcess(ctx context.Context, id string) error {
	p := &engine.Process{Pool: m.pool, ID: id, Mode: m.Config.Mode, Logger: m.Logger}
	if err := p.Start(ctx); err != nil {
		return err
	}
	m.closers = append(m.closers, p.Stop)
	return nil
}

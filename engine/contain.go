package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ContainPanics is River middleware that keeps a panic inside the job that
// raised it: the job is cancelled with the panic as its error (shown in
// River UI and the job's errors) and the stack is logged, and the process
// stays up. A panic is a bug that the same input raises again, so the job
// is not retried. (River would recover it too, but retry it up to its
// attempts, each one panicking again.) Work that must not be lost when a
// job is cancelled (send jobs' deliveries) is taken up by the sweep.
type ContainPanics struct {
	river.MiddlewareDefaults
	Logger *slog.Logger
}

// Work implements rivertype.WorkerMiddleware.
func (m *ContainPanics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		m.Logger.ErrorContext(ctx, "job panicked; cancelled, not retried",
			slog.String("kind", job.Kind), slog.Int64("job_id", job.ID),
			slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		err = river.JobCancel(fmt.Errorf("%s job panicked: %v", job.Kind, p))
	}()
	return doInner(ctx)
}

var _ rivertype.WorkerMiddleware = (*ContainPanics)(nil)

package logging

import (
	"fmt"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/log"
)

// TemporalLogger lets the Temporal SDK (and workflow code, through
// workflow.GetLogger, which suppresses lines during replay) log through
// zerolog, so every line of a process has one format.
type TemporalLogger struct {
	z zerolog.Logger
}

var (
	_ log.Logger     = TemporalLogger{}
	_ log.WithLogger = TemporalLogger{}
)

// NewTemporalLogger wraps z for client.Options.Logger.
func NewTemporalLogger(z zerolog.Logger) TemporalLogger { return TemporalLogger{z: z} }

func (l TemporalLogger) Debug(msg string, keyvals ...any) { l.emit(l.z.Debug(), msg, keyvals) }
func (l TemporalLogger) Info(msg string, keyvals ...any)  { l.emit(l.z.Info(), msg, keyvals) }
func (l TemporalLogger) Warn(msg string, keyvals ...any)  { l.emit(l.z.Warn(), msg, keyvals) }
func (l TemporalLogger) Error(msg string, keyvals ...any) { l.emit(l.z.Error(), msg, keyvals) }

// With returns a logger that adds keyvals to every line.
func (l TemporalLogger) With(keyvals ...any) log.Logger {
	c := l.z.With()
	for i := 0; i < len(keyvals); i += 2 {
		c = c.Interface(key(keyvals, i), value(keyvals, i))
	}
	return TemporalLogger{z: c.Logger()}
}

func (l TemporalLogger) emit(e *zerolog.Event, msg string, keyvals []any) {
	for i := 0; i < len(keyvals); i += 2 {
		v := value(keyvals, i)
		if err, ok := v.(error); ok {
			e = e.AnErr(key(keyvals, i), err)
			continue
		}
		e = e.Interface(key(keyvals, i), v)
	}
	e.Msg(msg)
}

// key maps the SDK's key names onto tiershift's, so a workflow's lines carry
// the same workflow_id field as the activities'.
func key(kv []any, i int) string {
	k := fmt.Sprint(kv[i])
	switch k {
	case "WorkflowID":
		return WorkflowID
	case "RunID":
		return "run_id"
	}
	return k
}

func value(kv []any, i int) any {
	if i+1 < len(kv) {
		return kv[i+1]
	}
	return "(missing)"
}

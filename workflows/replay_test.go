package workflows

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestReplayRecordedHistories replays every history recorded from the dev
// server (make histories). A change to PartnerTransition that is not guarded
// by workflow.GetVersion makes this test fail with a non-determinism error:
// running campaigns would break the same way.
//
// The SDK compares the commands a replay issues, not their arguments, so a
// change that makes a run decide differently (e.g. apply its messages in
// another order) could replay cleanly; the replayed run must also return the
// result that was recorded.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/: run `make histories`")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			h := readHistory(t, f)
			got := &resultRecorder{}
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				Interceptors: []interceptor.WorkerInterceptor{got},
			})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(PartnerTransition, workflow.RegisterOptions{Name: WorkflowName})
			if err := r.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
			want, ok := recordedResult(t, h)
			if !ok {
				return // the recorded run ended otherwise (continue-as-new, failure)
			}
			if !got.done || !reflect.DeepEqual(got.result, want) {
				t.Fatalf("replay %s returned %+v (finished %v), the recorded run %+v", f, got.result, got.done, want)
			}
		})
	}
}

func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h historypb.History
	if err := protojson.Unmarshal(data, &h); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &h
}

// recordedResult is the Result a recorded run completed with.
func recordedResult(t *testing.T, h *historypb.History) (Result, bool) {
	t.Helper()
	events := h.GetEvents()
	done := events[len(events)-1].GetWorkflowExecutionCompletedEventAttributes()
	if done == nil {
		return Result{}, false
	}
	var r Result
	if err := converter.GetDefaultDataConverter().FromPayloads(done.GetResult(), &r); err != nil {
		t.Fatalf("recorded result: %v", err)
	}
	return r, true
}

// resultRecorder keeps what the replayed workflow returned.
type resultRecorder struct {
	interceptor.WorkerInterceptorBase
	done   bool
	result Result
}

func (r *resultRecorder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &resultInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, rec: r}
}

type resultInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	rec *resultRecorder
}

func (i *resultInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	v, err := i.Next.ExecuteWorkflow(ctx, in)
	if res, ok := v.(Result); ok && err == nil {
		i.rec.done, i.rec.result = true, res
	}
	return v, err
}

// Command recordhistories runs a few transition scenarios on a real Temporal
// server and saves their event histories to workflows/testdata/, where the
// replay test checks that every later change to the workflow still replays
// them (`make histories`). Run it after a deliberate change guarded by
// workflow.GetVersion, having first renamed the existing files with the
// version they were recorded under (v0-…, v1-…): the old histories stay, so
// the test keeps proving that campaigns started before the change replay.
// Never run it to make a failing replay test pass.
//
// Its activities are in-memory stand-ins: the histories record the
// workflow's decisions, and the activities' results are part of the history.
// They are registered on the workflow worker, which also runs them as local
// activities (the Postgres ones since local-store-activities), and on the
// email worker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/workflows"
)

func main() {
	out := flag.String("out", "workflows/testdata", "folder for the history JSON files")
	addr := flag.String("address", envOr("TEMPORAL_ADDRESS", "localhost:7233"), "Temporal frontend")
	only := flag.String("scenario", "", "record only this scenario (default: all of them)")
	flag.Parse()
	if err := run(*addr, *out, *only); err != nil {
		fmt.Fprintln(os.Stderr, "recordhistories:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// memory answers the activities from memory.
type memory struct {
	mu    sync.Mutex
	facts map[string]program.Facts
}

// LoadProgram answers as Postgres does for a launched campaign.
// registerStore registers the Postgres stand-ins through the references the
// workflow calls, so they cannot drift from the contract.
func (m *memory) registerStore(r contract.Registry) {
	contract.LoadProgram.Register(r, m.LoadProgram)
	contract.LoadPartner.Register(r, m.LoadPartner)
	contract.RecordStage.Register(r, m.RecordStage)
	contract.ApplyTierChange.Register(r, m.ApplyTierChange)
}

func (m *memory) LoadProgram(_ context.Context, ref contract.CampaignRef) (*program.Program, error) {
	p := rehearsal()
	if ref.CampaignID == tracksCampaign {
		p = tracksRehearsal()
	}
	return &p, nil
}

func (m *memory) LoadPartner(_ context.Context, ref contract.PartnerRef) (contract.PartnerSnapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return contract.PartnerSnapshot{PartnerID: ref.PartnerID, Name: "Partner " + ref.PartnerID, Email: ref.PartnerID + "@partners.example", Locale: "fr", Tier: "Enterprise", Facts: m.facts[ref.PartnerID]}, nil
}
func (m *memory) RecordStage(context.Context, contract.StageUpdate) error { return nil }
func (m *memory) ApplyTierChange(context.Context, contract.TierChange) (contract.TierChangeResult, error) {
	return contract.TierChangeResult{Applied: true}, nil
}
func (m *memory) SendEmail(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
	return contract.SendEmailResult{Status: contract.EmailCaptured}, nil
}

// rehearsal is a VMware-like program whose deadline is minutes away.
func rehearsal() program.Program {
	min := func(n int) *program.Money { m := program.Money(n); return &m }
	return program.Program{
		ID: "record", Name: "Recorded rehearsal", Vendor: "Example", Currency: "USD",
		Certifications: []string{"VTSP"}, Competencies: []string{"Infrastructure Virtualization"},
		OldTiers: []string{"Enterprise"},
		Tiers: []program.Tier{
			{Name: "Professional", Requires: &program.Requirement{Certification: "VTSP", Count: 1}},
			{Name: "Enterprise", Requires: &program.Requirement{AllOf: []program.Requirement{
				{Certification: "VTSP", Count: 2}, {Competency: "Infrastructure Virtualization"}, {MinRevenue: min(1_000_000)},
			}}},
		},
		Fallback: "Registered", ApplyAt: program.ApplyAtDeadline,
		Transitions: []program.Transition{{From: "Enterprise", Grace: program.Duration{Minutes: 2}, Expect: "Enterprise"}},
		Reminders:   []program.Duration{{Minutes: 1}},
		Emails:      program.Emails{FromEmail: "partners@vendor.example", Locales: []string{"en", "fr"}, DefaultLocale: "en"},
	}
}

// tracksCampaign is the campaign whose program has tracks (tracksRehearsal).
const tracksCampaign = "record-tracks"

// tracksRehearsal is a program with three tracks whose deadline is minutes
// away. tracksLevels and tracksFacts make its partner promoted in Resell
// (two VTSP reach Advanced), demoted in Services (Advanced asks $10,000 of
// revenue, it has none) and kept in Sell With (10 points: Ready).
func tracksRehearsal() program.Program {
	p := rehearsal()
	p.ID, p.Name, p.OldTiers = "record-tracks", "Recorded rehearsal with tracks", []string{"Ready", "Advanced"}
	p.Tiers, p.Fallback, p.ApplyAt, p.Transitions = nil, "", "", nil
	revenue := program.Money(1_000_000)
	points := func(n int) *int { return &n }
	track := func(name string, ready, advanced program.Requirement) program.Track {
		return program.Track{
			Name: name, OldTiers: []string{"Ready", "Advanced"}, Fallback: "Registered", ApplyAt: program.ApplyAtDeadline,
			Tiers: []program.Tier{{Name: "Ready", Requires: &ready}, {Name: "Advanced", Requires: &advanced}},
			Transitions: []program.Transition{
				{From: "Ready", Grace: program.Duration{Minutes: 2}, Expect: "Ready"},
				{From: "Advanced", Grace: program.Duration{Minutes: 2}, Expect: "Advanced"},
			},
		}
	}
	p.Tracks = []program.Track{
		track("Resell", program.Requirement{Certification: "VTSP", Count: 1}, program.Requirement{Certification: "VTSP", Count: 2}),
		track("Services", program.Requirement{Competency: "Infrastructure Virtualization"}, program.Requirement{MinRevenue: &revenue}),
		track("Sell With", program.Requirement{MinPoints: points(10)}, program.Requirement{MinPoints: points(100)}),
	}
	return p
}

var (
	tracksLevels = []program.TrackLevel{{Track: "Resell", Tier: "Ready"}, {Track: "Sell With", Tier: "Ready"}, {Track: "Services", Tier: "Advanced"}}
	tracksFacts  = program.Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Infrastructure Virtualization"}, Points: 10}
)

type scenario struct {
	name  string
	facts program.Facts
	act   func(ctx context.Context, c client.Client, id string) error
	// tracks, when set, runs the scenario in tracksCampaign with these
	// levels.
	tracks []program.TrackLevel
}

func run(addr, out, only string) error {
	ctx := context.Background()
	c, err := client.Dial(client.Options{HostPort: addr})
	if err != nil {
		return err
	}
	defer c.Close()
	queue := fmt.Sprintf("record-%d", time.Now().UnixNano())
	mem := &memory{facts: map[string]program.Facts{}}
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.PartnerTransition, workflow.RegisterOptions{Name: workflows.WorkflowName})
	mem.registerStore(w)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	mail := worker.New(c, config.EmailQueueFor(queue), worker.Options{})
	contract.SendEmail.Register(mail, mem.SendEmail)
	if err := mail.Start(); err != nil {
		return err
	}
	defer mail.Stop()

	update := func(name string, arg any) func(ctx context.Context, c client.Client, id string) error {
		return func(ctx context.Context, c client.Client, id string) error {
			time.Sleep(30 * time.Second) // let the announcement and a timer land in the history
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return err
			}
			return h.Get(ctx, nil)
		}
	}
	scenarios := []scenario{
		{name: "demoted-with-reminder"},
		{name: "kept-already-qualified", facts: program.Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Infrastructure Virtualization"}, Revenue: 1_000_000}},
		{name: "extended", act: update(workflows.MessageExtend, workflows.ExtendDeadline{ID: "e1", By: program.Duration{Minutes: 1}, Reason: "recorded", Actor: "recorder"})},
		{name: "exempted", act: update(workflows.MessageExempt, workflows.Exempt{ID: "x1", Reason: "recorded", Actor: "recorder"})},
		{name: "qualified-midway", act: func(ctx context.Context, c client.Client, id string) error {
			mem.mu.Lock()
			mem.facts["qualified-midway"] = program.Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Infrastructure Virtualization"}, Revenue: 1_000_000}
			mem.mu.Unlock()
			return update(workflows.MessageFacts, workflows.FactsChanged{ID: "f1"})(ctx, c, id)
		}},
		// Four Signals sent at once, so that they land in one workflow task
		// (nothing guarantees it: check the recording; in testdata they did),
		// pinning the order in which the run applies them.
		{name: "signalled", act: func(ctx context.Context, c client.Client, id string) error {
			time.Sleep(30 * time.Second)
			signals := []struct {
				name string
				arg  any
			}{
				{workflows.MessageWithdraw, workflows.Withdraw{ID: "w1", Reason: "recorded", Actor: "recorder"}},
				{workflows.MessageExempt, workflows.Exempt{ID: "x1", Reason: "recorded", Actor: "recorder"}},
				{workflows.MessageExtend, workflows.ExtendDeadline{ID: "e1", By: program.Duration{Minutes: 1}, Reason: "recorded", Actor: "recorder"}},
				{workflows.MessageFacts, workflows.FactsChanged{ID: "f1"}},
			}
			errs := make(chan error, len(signals))
			for _, s := range signals {
				go func() { errs <- c.SignalWorkflow(ctx, id, "", s.name, s.arg) }()
			}
			var err error
			for range signals {
				err = errors.Join(err, <-errs)
			}
			return err
		}},
	}
	scenarios = append(scenarios, scenario{name: "tracks-decided", facts: tracksFacts, tracks: tracksLevels})
	if only != "" {
		scenarios = slices.DeleteFunc(scenarios, func(s scenario) bool { return s.name != only })
		if len(scenarios) == 0 {
			return fmt.Errorf("-scenario %q: no such scenario", only)
		}
	}
	errs := make(chan error, len(scenarios))
	for _, s := range scenarios {
		mem.facts[s.name] = s.facts
		go func() { errs <- record(ctx, c, queue, out, s) }()
	}
	for range scenarios {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func record(ctx context.Context, c client.Client, queue, out string, s scenario) error {
	// As `starter launch` starts a transition: the workflow loads the program.
	in := workflows.TransitionInput{CampaignID: "record", PartnerID: s.name, OldTier: "Enterprise", LaunchAt: time.Now().UTC().Truncate(time.Second), ProgramID: rehearsal().ID}
	if s.tracks != nil {
		in.CampaignID, in.OldTier, in.ProgramID, in.TrackLevels = tracksCampaign, "Ready", tracksRehearsal().ID, s.tracks
	}
	id := workflows.WorkflowID(in.CampaignID, fmt.Sprintf("%s-%d", s.name, time.Now().UnixNano()))
	in.PartnerID = s.name
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflows.WorkflowName, in)
	if err != nil {
		return fmt.Errorf("%s: start: %w", s.name, err)
	}
	if s.act != nil {
		if err := s.act(ctx, c, id); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if err := run.Get(ctx, nil); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	var h history.History
	it := c.GetWorkflowHistory(ctx, id, run.GetRunID(), false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("%s: history: %w", s.name, err)
		}
		h.Events = append(h.Events, e)
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		return err
	}
	path := filepath.Join(out, s.name+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("recorded %s (%d events)\n", path, len(h.Events))
	return nil
}

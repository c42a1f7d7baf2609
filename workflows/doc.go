// Package workflows holds tiershift's Temporal workflow: one durable
// PartnerTransition per (campaign, partner) that carries the partner from the
// old program to the new one over months: announcement, reminders while it
// still misses its expected tier, reactions to facts and operator decisions,
// and the promotion or demotion at its deadline.
//
// The workflow reaches Postgres and SendGrid only through activities, which
// it names by their typed references in package contract; it links none of
// their implementations.
//
// # Files
//
// transition.go is the business process; messages.go the Signals, Updates
// and Query; searchattrs.go the search attributes it keeps current;
// details.go the Markdown the Web UI shows; continueasnew.go when and how a
// run hands over to the next; options.go how activities are called;
// versions.go the GetVersion markers; programs.go the worker's shared
// program copies; tracks.go how a program with tracks is run, track by
// track (tracks-decided.json in testdata/ is such a run).
//
// # Retiring a GetVersion branch
//
// Every change to the workflow's commands goes behind workflow.GetVersion
// (versions.go), and the old branch stays for runs that began before it.
// It can go once no run can take it:
//
//  1. Find the runs that can: open transitions that started before the
//     first worker with the change was deployed and have not continued as
//     new since (a continued run is a new history and takes the new
//     branch). A run that took the new branch carries "<change>-<version>"
//     in its TemporalChangeVersion search attribute, e.g.
//     WorkflowType = 'PartnerTransition' AND ExecutionStatus = 'Running'
//     AND TemporalChangeVersion != 'local-store-activities-1'.
//  2. Wait until there are none, and, if anyone replays or resets closed
//     runs, until those have passed the namespace's retention period.
//  3. Delete the old branch but keep the call with its minimum raised:
//     GetVersion(ctx, change, 1, 1). A run that still lacks the marker then
//     fails its workflow task with a non-determinism error, visibly,
//     instead of silently running the new code on an old history.
//  4. Delete the recorded histories in testdata/ that only the old branch
//     replays (v0-… were recorded before show-notified, v1-… before
//     local-store-activities, v3-… before time-zones) in the same commit,
//     saying why; the replay test must still cover a history that has the
//     marker.
package workflows

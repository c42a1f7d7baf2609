package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/workflows"
)

// cohortFilter is an operator's --query that parseCohortFilter accepted: it
// can only narrow the campaign's transitions, never widen them. Only that
// function makes one from user text, so cohortQuery cannot be handed a
// filter that closes its parenthesis.
type cohortFilter string

// maxCohortFilter bounds --query; a real filter is a line.
const maxCohortFilter = 2000

// parseCohortFilter checks an operator's --query before it is put inside
// "... AND CampaignId = 'C' AND (...)". It accepts only what a filter over
// search attributes needs: names, string literals, numbers, comparison
// operators, commas and balanced parentheses. Everything else (a ')' that
// would close ours, an unterminated string, comments, which could hide a
// parenthesis from this check but not from the server, ';', backquotes) is
// refused, and so is naming CampaignId: the campaign is --campaign.
func parseCohortFilter(q string) (cohortFilter, error) {
	if strings.TrimSpace(q) == "" {
		return "", fmt.Errorf("--query is empty")
	}
	if len(q) > maxCohortFilter {
		return "", fmt.Errorf("--query is %d bytes long; at most %d", len(q), maxCohortFilter)
	}
	depth := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == '\'' || c == '"':
			end, ok := scanQueryString(q, i)
			if !ok {
				return "", queryError(q, i, "string not closed")
			}
			i = end
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth == 0 {
				return "", queryError(q, i, "')' without its '(': a filter cannot close the campaign's condition")
			}
			depth--
			i++
		case isIdentByte(c):
			j := i
			for j < len(q) && (isIdentByte(q[j]) || q[j] == '.') {
				j++
			}
			if strings.EqualFold(q[i:j], workflows.CampaignIDKey.GetName()) {
				return "", queryError(q, i, "names CampaignId; the campaign is --campaign, and a cohort never leaves it")
			}
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			i++ // the sign of a number; "--" (a comment) is refused below
		case strings.IndexByte("=!<>", c) >= 0:
			i++
		default:
			return "", queryError(q, i, fmt.Sprintf("unexpected %q (allowed: names, 'strings', numbers, = != < > <= >=, AND, OR, NOT, IN, BETWEEN, parentheses)", c))
		}
	}
	if depth != 0 {
		return "", fmt.Errorf("--query %s: %d '(' not closed", ids.Quote(q), depth)
	}
	return cohortFilter(q), nil
}

// scanQueryString returns the offset after the string literal starting at
// q[start], reading it as Temporal's query parser does: a backslash escapes
// the next byte. (A doubled quote, which the parser reads as a quote, covers
// the same text as two adjacent strings, so it needs no case here.)
func scanQueryString(q string, start int) (int, bool) {
	delim := q[start]
	for i := start + 1; i < len(q); i++ {
		switch q[i] {
		case '\\':
			i++
		case delim:
			return i + 1, true
		}
	}
	return 0, false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func queryError(q string, at int, why string) error {
	return fmt.Errorf("--query %s: at character %d: %s", ids.Quote(q), at+1, why)
}

// member is what a decision's check knows of one partner it reaches.
type member struct {
	PartnerID string
	OldTier   string
	Deadline  time.Time // zero when not known yet
}

// maxNamedProblems bounds how many refused members an error names.
const maxNamedProblems = 10

// cohortMembers lists every workflow the query matches and checks, whatever
// the query says, that each is a transition of the campaign: by its workflow
// ID and by its CampaignId search attribute. One that is not is refused
// before anything is signalled, naming it; the batch is then sent to exactly
// the executions listed here, never to a re-evaluated query. check, when
// set, vets each member from its search attributes; any refusal refuses all.
func (e *opsEnv) cohortMembers(ctx context.Context, campaignID, query string, check func(member) error) ([]*common.WorkflowExecution, error) {
	var members []*common.WorkflowExecution
	var problems []string
	var token []byte
	for {
		resp, err := e.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: e.cfg.TemporalNamespace, Query: query, PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, x := range resp.GetExecutions() {
			if err := checkMember(campaignID, x.GetExecution().GetWorkflowId(), x.GetSearchAttributes()); err != nil {
				return nil, err
			}
			if check != nil {
				if err := check(memberOf(x)); err != nil {
					problems = append(problems, err.Error())
				}
			}
			members = append(members, x.GetExecution())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if len(problems) > 0 {
		return nil, badInputf("%d of the %d partners the query matches are refused; nothing was sent:\n  %s",
			len(problems), len(members), strings.Join(firstN(problems, maxNamedProblems), "\n  "))
	}
	return members, nil
}

func firstN(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("... and %d more", len(lines)-n))
}

// memberOf reads a listed transition's partner, old tier and deadline; an
// attribute not set yet stays empty.
func memberOf(x *workflowpb.WorkflowExecutionInfo) member {
	var m member
	_, m.PartnerID, _ = ids.ParseWorkflowID(x.GetExecution().GetWorkflowId())
	fields := x.GetSearchAttributes().GetIndexedFields()
	dc := converter.GetDefaultDataConverter()
	if p := fields[workflows.OldTierKey.GetName()]; p != nil {
		_ = dc.FromPayload(p, &m.OldTier)
	}
	if p := fields[workflows.DeadlineKey.GetName()]; p != nil {
		_ = dc.FromPayload(p, &m.Deadline)
	}
	return m
}

// checkMember refuses a listed workflow that is not a transition of the
// campaign.
func checkMember(campaignID, workflowID string, sa *common.SearchAttributes) error {
	c, _, err := ids.ParseWorkflowID(workflowID)
	if err == nil && c != campaignID {
		err = fmt.Errorf("workflow %s belongs to campaign %s", ids.Quote(workflowID), ids.Quote(c))
	}
	if err == nil {
		var saCampaign string
		p := sa.GetIndexedFields()[workflows.CampaignIDKey.GetName()]
		if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &saCampaign) != nil || saCampaign != campaignID {
			err = fmt.Errorf("workflow %s has CampaignId %s", ids.Quote(workflowID), ids.Quote(saCampaign))
		}
	}
	if err != nil {
		return badInputf("--query matched a workflow outside campaign %s: %v; nothing was signalled", ids.Quote(campaignID), err)
	}
	return nil
}

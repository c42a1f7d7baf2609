// Package sendgridstub is a local stand-in for SendGrid's v3 Mail Send API,
// for tests, end-to-end runs and the demo. It checks each request the way
// SendGrid does (and the way tiershift promises to build them), records
// every accepted message, and can be scripted to answer 400, 401, 429, 500
// or to hang, per request or per recipient. It also answers the Email
// Activity lookup by custom argument (GET /v3/messages) that the mailer uses
// to confirm a send whose answer was lost.
//
//	stub := sendgridstub.New()            // httptest server on 127.0.0.1
//	defer stub.Close()
//	client := ... stub.URL, sendgridstub.Key ...
//	stub.Enqueue(sendgridstub.ServerError(), sendgridstub.Accept())
//	stub.RejectAddress("bounce@example.com", 400, "Does not contain a valid address.")
//	stub.Messages(); stub.CountByDedupeKey()
package sendgridstub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Key is the API key New's stub accepts by default.
const Key = "SG.sendgridstub-test-key"

// Path is the Mail Send endpoint.
const Path = "/v3/mail/send"

// ActivityPath is the Email Activity endpoint ("filter all messages").
const ActivityPath = "/v3/messages"

// Message is one request body, parsed.
type Message struct {
	// MessageID is the X-Message-Id the stub answered (accepted messages only).
	MessageID  string
	Status     int
	To         string
	ToName     string
	From       string
	FromName   string
	ReplyTo    string
	Subject    string
	Text       string
	HTML       string
	TemplateID string
	// ContentTypes lists content[].type in request order.
	ContentTypes        []string
	CustomArgs          map[string]string
	Categories          []string
	DynamicTemplateData map[string]any
	// Raw is the whole JSON body.
	Raw      map[string]any
	Received time.Time
}

// DedupeKey is custom_args.dedupe_key.
func (m Message) DedupeKey() string { return m.CustomArgs["dedupe_key"] }

// Reply is what the stub answers to one request.
type Reply struct {
	Status int
	// Body is sent as is; when empty, errors get a SendGrid-style body built
	// from Message.
	Body    string
	Message string
	Header  http.Header
	// Hang holds the request until the client gives up or the stub closes.
	Hang bool
	// Accepted with Hang records the message as accepted (it shows in
	// Messages and in the Email Activity) but never answers: a send whose
	// answer is lost.
	Accepted bool
}

// Accept is a 202 with a fresh X-Message-Id.
func Accept() Reply { return Reply{Status: http.StatusAccepted} }

// BadRequest is a 400 whose errors[0].message is msg.
func BadRequest(msg string) Reply { return Reply{Status: http.StatusBadRequest, Message: msg} }

// Unauthorized is SendGrid's 401 for a bad API key.
func Unauthorized() Reply {
	return Reply{Status: http.StatusUnauthorized, Message: "The provided authorization grant is invalid, expired, or revoked"}
}

// RateLimited is a 429 whose X-RateLimit-Reset is reset (Unix seconds).
func RateLimited(reset time.Time) Reply {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "600")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return Reply{Status: http.StatusTooManyRequests, Message: "too many requests", Header: h}
}

// ServerError is a 500.
func ServerError() Reply {
	return Reply{Status: http.StatusInternalServerError, Message: "internal server error"}
}

// Hang never answers; the client must time out. The message is not accepted.
func Hang() Reply { return Reply{Hang: true} }

// AcceptSilently accepts the message, then never answers: the client times
// out not knowing that SendGrid will deliver it, as when a worker dies
// mid-request.
func AcceptSilently() Reply { return Reply{Status: http.StatusAccepted, Hang: true, Accepted: true} }

// Request is what a Responder sees: the parsed message and the HTTP headers.
type Request struct {
	Message Message
	Header  http.Header
	// N counts valid requests, from 1.
	N int
}

// Responder decides the reply to a valid request; ok=false lets the stub go
// on with its queue and default (202).
type Responder func(Request) (reply Reply, ok bool)

// Stub is the fake SendGrid. It is an http.Handler; New also serves it.
type Stub struct {
	// URL is the base URL to give the client (no path), once serving.
	URL string

	mu        sync.Mutex
	key       string
	anyKey    bool
	queue     []Reply
	responder Responder
	rejects   map[string]Reply
	messages  []Message
	requests  int
	valid     int
	seq       int
	onMessage func(Message)
	// activity is false when the account has no Email Activity access.
	activity bool
	// activityRefusal is the answer to Email Activity requests when
	// activity is false (403 unless RefuseActivity says otherwise).
	activityRefusal *Reply
	// activityLag is how long an accepted message takes to show there.
	activityLag     time.Duration
	activityLookups int
	changed         chan struct{}
	closing         chan struct{}
	closeOnce       sync.Once
	server          *httptest.Server
	listener        *http.Server
}

// NewHandler returns a stub that is not serving yet: mount it yourself. It
// accepts only Key until SetKey says otherwise.
func NewHandler() *Stub {
	return &Stub{key: Key, rejects: map[string]Reply{}, activity: true, changed: make(chan struct{}), closing: make(chan struct{})}
}

// New serves a stub on a random 127.0.0.1 port.
func New() *Stub {
	s := NewHandler()
	s.server = httptest.NewServer(s)
	s.URL = s.server.URL
	return s
}

// Start serves a stub on addr (such as "127.0.0.1:8025") until Close.
func Start(addr string) (*Stub, error) {
	s := NewHandler()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.listener = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go func() { _ = s.listener.Serve(ln) }()
	return s, nil
}

// Close releases hanging requests and stops serving.
func (s *Stub) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	if s.server != nil {
		s.server.Close()
	}
	if s.listener != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.listener.Shutdown(ctx)
	}
}

// SetKey makes the stub accept only this API key; "" accepts any bearer key.
func (s *Stub) SetKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key, s.anyKey = key, key == ""
}

// Enqueue scripts the replies to the next valid requests, in order. Once the
// queue is empty, requests are accepted.
func (s *Stub) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// Respond installs f, asked before the queue for every valid request.
func (s *Stub) Respond(f Responder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = f
}

// RejectAddress answers status with message to every message sent to addr.
func (s *Stub) RejectAddress(addr string, status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[strings.ToLower(addr)] = Reply{Status: status, Message: message}
}

// OnMessage calls f (outside the stub's lock) for each accepted message.
func (s *Stub) OnMessage(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = f
}

// SetActivity says whether the account can read its Email Activity (a paid
// add-on in SendGrid): without it, GET /v3/messages answers 403. lag is how
// long an accepted message takes to appear there.
func (s *Stub) SetActivity(enabled bool, lag time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.activity, s.activityLag = enabled, lag
}

// RefuseActivity makes GET /v3/messages answer r (e.g. a 404) instead of
// listing messages, as SendGrid does for an account or key without Email
// Activity access.
func (s *Stub) RefuseActivity(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.activity, s.activityRefusal = false, &r
}

// ActivityLookups is how many Email Activity requests were answered.
func (s *Stub) ActivityLookups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activityLookups
}

// Messages returns the accepted messages, in arrival order.
func (s *Stub) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Accepted is how many messages were accepted (2xx).
func (s *Stub) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Requests is how many requests arrived, valid or not, answered or not.
func (s *Stub) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// CountByDedupeKey counts accepted messages per custom_args.dedupe_key: a
// value above 1 is a duplicate send.
func (s *Stub) CountByDedupeKey() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, m := range s.messages {
		out[m.DedupeKey()]++
	}
	return out
}

// WaitAccepted blocks until at least n messages were accepted or ctx ends.
func (s *Stub) WaitAccepted(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		have, ch := len(s.messages), s.changed
		s.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("sendgridstub: %d of %d messages accepted: %w", have, n, ctx.Err())
		}
	}
}

// ServeHTTP implements the Mail Send and Email Activity endpoints.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	key, anyKey := s.key, s.anyKey
	s.mu.Unlock()

	want := http.MethodPost
	switch r.URL.Path {
	case Path:
	case ActivityPath:
		want = http.MethodGet
	default:
		writeError(w, Reply{Status: http.StatusNotFound, Message: "not found: " + r.URL.Path})
		return
	}
	if r.Method != want {
		writeError(w, Reply{Status: http.StatusMethodNotAllowed, Message: "method not allowed: " + r.Method})
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || auth == "" || (!anyKey && auth != key) {
		writeError(w, Unauthorized())
		return
	}
	if r.URL.Path == ActivityPath {
		s.serveActivity(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 30<<20))
	if err != nil {
		writeError(w, BadRequest("could not read body"))
		return
	}
	msg, problems := parse(body)
	if len(problems) > 0 {
		writeErrors(w, http.StatusBadRequest, problems)
		return
	}
	msg.Received = time.Now()

	s.mu.Lock()
	s.valid++
	req := Request{Message: msg, Header: r.Header.Clone(), N: s.valid}
	reply, decided := s.rejects[strings.ToLower(msg.To)]
	responder := s.responder
	s.mu.Unlock()
	if !decided && responder != nil {
		reply, decided = responder(req)
	}
	s.mu.Lock()
	if !decided && len(s.queue) > 0 {
		reply, s.queue, decided = s.queue[0], s.queue[1:], true
	}
	if !decided {
		reply = Accept()
	}
	s.mu.Unlock()

	if reply.Hang {
		if reply.Accepted {
			s.accept(msg, reply.Status)
		}
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if reply.Status < 200 || reply.Status > 299 {
		writeError(w, reply)
		return
	}
	msg = s.accept(msg, reply.Status)
	w.Header().Set("X-Message-Id", msg.MessageID)
	w.WriteHeader(reply.Status)
	if reply.Body != "" {
		_, _ = io.WriteString(w, reply.Body)
	}
}

// accept records msg as accepted with a fresh message ID.
func (s *Stub) accept(msg Message, status int) Message {
	s.mu.Lock()
	s.seq++
	msg.MessageID = fmt.Sprintf("stub%08d.sendgridstub", s.seq)
	msg.Status = status
	s.messages = append(s.messages, msg)
	close(s.changed)
	s.changed = make(chan struct{})
	onMessage := s.onMessage
	s.mu.Unlock()
	if onMessage != nil {
		onMessage(msg)
	}
	return msg
}

// activityQuery is the one Email Activity query the stub understands: an
// exact match on one custom argument, unique_args['name']="value".
var activityQuery = regexp.MustCompile(`^\(?unique_args\['([^']+)'\]\s*=\s*"([^"]*)"\)?$`)

// ActivityMessage is one entry of the Email Activity answer.
type ActivityMessage struct {
	MsgID         string `json:"msg_id"`
	FromEmail     string `json:"from_email"`
	Subject       string `json:"subject"`
	ToEmail       string `json:"to_email"`
	Status        string `json:"status"`
	OpensCount    int    `json:"opens_count"`
	ClicksCount   int    `json:"clicks_count"`
	LastEventTime string `json:"last_event_time"`
}

// serveActivity answers GET /v3/messages?query=unique_args['k']="v"&limit=n
// with the accepted messages whose custom argument k is v, newest first,
// the way SendGrid's Email Activity API does.
func (s *Stub) serveActivity(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	enabled, lag, refusal := s.activity, s.activityLag, s.activityRefusal
	s.mu.Unlock()
	if !enabled {
		if refusal == nil {
			refusal = &Reply{Status: http.StatusForbidden, Message: "access forbidden"}
		}
		writeError(w, *refusal)
		return
	}
	limit := 10
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, BadRequest("limit must be a number between 1 and 1000"))
			return
		}
		limit = n
	}
	m := activityQuery.FindStringSubmatch(strings.TrimSpace(r.URL.Query().Get("query")))
	if m == nil {
		writeError(w, BadRequest("sendgridstub understands only query=unique_args['name']=\"value\""))
		return
	}
	name, value := m[1], m[2]
	now := time.Now()
	found := []ActivityMessage{}
	s.mu.Lock()
	s.activityLookups++
	for i := len(s.messages) - 1; i >= 0 && len(found) < limit; i-- {
		msg := s.messages[i]
		if msg.CustomArgs[name] != value || now.Sub(msg.Received) < lag {
			continue
		}
		found = append(found, ActivityMessage{
			MsgID: msg.MessageID + ".filter0001p1mdw1-1-0", FromEmail: msg.From, Subject: msg.Subject,
			ToEmail: msg.To, Status: "processed", LastEventTime: msg.Received.UTC().Format(time.RFC3339),
		})
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": found})
}

type apiError struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	Help    *string `json:"help"`
}

func writeError(w http.ResponseWriter, r Reply) {
	if r.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(r.Status)
		_, _ = io.WriteString(w, r.Body)
		return
	}
	msg := r.Message
	if msg == "" {
		msg = http.StatusText(r.Status)
	}
	writeErrors(w, r.Status, []apiError{{Message: msg}})
}

func writeErrors(w http.ResponseWriter, status int, errs []apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": errs})
}

// wire is the part of SendGrid's request body the stub checks.
type wire struct {
	Personalizations []struct {
		To []struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"to"`
		Subject             string         `json:"subject"`
		DynamicTemplateData map[string]any `json:"dynamic_template_data"`
	} `json:"personalizations"`
	From *struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"from"`
	ReplyTo *struct {
		Email string `json:"email"`
	} `json:"reply_to"`
	Subject string `json:"subject"`
	Content []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"content"`
	TemplateID string            `json:"template_id"`
	CustomArgs map[string]string `json:"custom_args"`
	Categories []string          `json:"categories"`
}

// parse checks body like SendGrid does, plus tiershift's own promises
// (custom_args, text/plain first), and returns every problem found.
func parse(body []byte) (Message, []apiError) {
	var m Message
	var problems []apiError
	bad := func(field, format string, args ...any) {
		f := field
		problems = append(problems, apiError{Message: fmt.Sprintf(format, args...), Field: &f})
	}
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		bad("", "Bad Request: the request body is not valid JSON: %v", err)
		return m, problems
	}
	_ = json.Unmarshal(body, &m.Raw)

	if len(w.Personalizations) == 0 || len(w.Personalizations[0].To) == 0 || w.Personalizations[0].To[0].Email == "" {
		bad("personalizations.0.to", "The to array is required for all personalization objects, and must have at least one email object with a valid email address.")
	} else {
		p := w.Personalizations[0]
		m.To, m.ToName = p.To[0].Email, p.To[0].Name
		m.DynamicTemplateData = p.DynamicTemplateData
		if !strings.Contains(m.To, "@") {
			bad("personalizations.0.to.0.email", "Does not contain a valid address.")
		}
		if p.Subject != "" && m.Subject == "" {
			m.Subject = p.Subject
		}
	}
	if w.From == nil || w.From.Email == "" {
		bad("from.email", "The from email does not contain a valid address.")
	} else {
		m.From, m.FromName = w.From.Email, w.From.Name
	}
	if w.ReplyTo != nil {
		m.ReplyTo = w.ReplyTo.Email
	}
	if w.Subject != "" {
		m.Subject = w.Subject
	}
	m.TemplateID = w.TemplateID
	if m.Subject == "" && m.TemplateID == "" {
		bad("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.")
	}
	for i, c := range w.Content {
		m.ContentTypes = append(m.ContentTypes, c.Type)
		switch c.Type {
		case "text/plain":
			m.Text = c.Value
		case "text/html":
			m.HTML = c.Value
		}
		if c.Value == "" {
			bad(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length.")
		}
	}
	if m.TemplateID == "" && len(w.Content) == 0 {
		bad("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.")
	}
	for i, t := range m.ContentTypes {
		if t == "text/plain" && i != 0 {
			bad("content", "If present, text/plain must be first, followed by text/html, followed by any other content.")
		}
	}
	m.CustomArgs = w.CustomArgs
	for _, k := range []string{"campaign_id", "partner_id", "kind", "dedupe_key"} {
		if w.CustomArgs[k] == "" {
			bad("custom_args."+k, "tiershift requires custom_args.%s on every message", k)
		}
	}
	m.Categories = w.Categories
	if len(w.Categories) > 10 {
		bad("categories", "You may not have more than 10 categories per request.")
	}
	return m, problems
}

// Package config reads tiershift's settings from the environment, the one
// place every process (worker, starter, docker-compose) agrees on names.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/contrib/envconfig"
)

// Environment variable names. docker-compose.yml uses exactly these; a test
// checks that the two agree.
const (
	EnvDatabaseURL = "DATABASE_URL"
	// The Temporal connection is read by the SDK's environment configuration
	// (go.temporal.io/sdk/contrib/envconfig), the names the Temporal CLI and
	// every SDK read: a TOML profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)
	// overridden by these variables. The ones tiershift's files mention:
	EnvTemporalAddress    = "TEMPORAL_ADDRESS"
	EnvTemporalNamespace  = "TEMPORAL_NAMESPACE"
	EnvTemporalAPIKey     = "TEMPORAL_API_KEY"
	EnvTemporalTLS        = "TEMPORAL_TLS"
	EnvTemporalTLSCert    = "TEMPORAL_TLS_CLIENT_CERT_PATH"
	EnvTemporalTLSKey     = "TEMPORAL_TLS_CLIENT_KEY_PATH"
	EnvTemporalTLSCA      = "TEMPORAL_TLS_SERVER_CA_CERT_PATH"
	EnvTemporalTLSName    = "TEMPORAL_TLS_SERVER_NAME"
	EnvTemporalConfigFile = "TEMPORAL_CONFIG_FILE"
	EnvTemporalProfile    = "TEMPORAL_PROFILE"
	EnvTaskQueue          = "TIERSHIFT_TASK_QUEUE"
	EnvEmailTaskQueue     = "TIERSHIFT_EMAIL_TASK_QUEUE"
	EnvEmailRate          = "TIERSHIFT_EMAIL_RATE"
	EnvEmailConfirm       = "TIERSHIFT_EMAIL_CONFIRM_WINDOW"
	EnvWorkflowPollers    = "TIERSHIFT_WORKFLOW_POLLERS"
	EnvActivityPollers    = "TIERSHIFT_ACTIVITY_POLLERS"
	EnvMaxActivities      = "TIERSHIFT_MAX_CONCURRENT_ACTIVITIES"
	EnvMaxWorkflowTasks   = "TIERSHIFT_MAX_CONCURRENT_WORKFLOW_TASKS"
	EnvStickyCacheSize    = "TIERSHIFT_STICKY_CACHE_SIZE"
	EnvStickyTimeout      = "TIERSHIFT_STICKY_TIMEOUT"
	EnvDBMaxConns         = "TIERSHIFT_DB_MAX_CONNS"
	EnvPprofAddr          = "TIERSHIFT_PPROF_ADDR"
	EnvMetricsAddr        = "TIERSHIFT_METRICS_ADDR"
	EnvSendGridAPIKey     = "SENDGRID_API_KEY"
	// EnvCodecKeyFile and EnvCodecKeys hold the payload encryption keys
	// (package codec): a file of ID:BASE64 lines, or the same entries
	// separated by commas. Never a flag: flags show in the process list.
	EnvCodecKeyFile = "TIERSHIFT_CODEC_KEY_FILE"
	EnvCodecKeys    = "TIERSHIFT_CODEC_KEYS"
	// EnvCodecToken and EnvCodecTokenFile hold the operator token the codec
	// server (`starter codec-server`) requires.
	EnvCodecToken     = "TIERSHIFT_CODEC_TOKEN"
	EnvCodecTokenFile = "TIERSHIFT_CODEC_TOKEN_FILE"
	EnvSendGridAPIURL = "SENDGRID_API_URL"
	EnvLogFormat      = "LOG_FORMAT"
	EnvLogLevel       = "LOG_LEVEL"
)

// Defaults match the local stack that `make demo` brings up.
const (
	DefaultDatabaseURL       = "postgres://tiershift:tiershift@localhost:5432/tiershift?sslmode=disable"
	DefaultTemporalAddress   = "localhost:7233"
	DefaultTemporalNamespace = "default"
	DefaultTaskQueue         = "tiershift"
	DefaultEmailTaskQueue    = "tiershift-email"
	DefaultSendGridAPIURL    = "https://api.sendgrid.com"
	// DefaultEmailRate is messages per second across all workers; 0 means unlimited.
	DefaultEmailRate = 50.0
	// DefaultStickyTimeout is how long a workflow task waits for the worker
	// that has the workflow cached. The SDK's 5 s is shorter than the task
	// backlog of a deadline wave, and every task that waits longer is
	// replayed from its whole history by another poll: work for the worker
	// and for the server at the worst moment. It is also how long a task
	// can wait for a worker that was killed (no graceful shutdown) just
	// after polling, so an operator's Update (starter signal, extend: one
	// minute) must outlast it: a 1-minute value timed those out in the
	// end-to-end test. 10 s, twice the SDK's, is what BENCHMARKS.md's
	// 20,000-partner wave ran with.
	DefaultStickyTimeout = 10 * time.Second
	// DefaultStickyCacheSize is how many workflows a worker keeps in memory
	// between their tasks (the SDK's default is 10,000). A cached workflow
	// needs no replay when its next task comes seconds later; a sleeping one
	// only costs memory (~45 KB) and the CPU of the collection Go forces every
	// 2 minutes, which marks the whole cache. A few seconds of a worker's
	// throughput (tens of workflows a second) is what needs caching; the
	// rest is replayed from its short history when its timer fires.
	DefaultStickyCacheSize = 2000
	// DefaultWorkflowPollers is the worker's concurrent workflow task polls
	// (the SDK's default is 2): at a deadline wave the tasks wait for a poll
	// to carry them, and 8 finished 2,000 partners ~15% sooner than 2.
	DefaultWorkflowPollers = 8
	// DefaultActivityPollers is the worker's concurrent activity task polls
	// on each of its queues (the SDK's default is 2). At a deadline wave
	// every partner's outcome email waits for a poll: with 2, the email
	// queue of the cluster's 20,000-partner wave had its tasks wait 56 s on
	// average while the worker ran at most a handful of activities at once
	// (the SDK's metrics, BENCHMARKS.md 2026-12-06 16:04). A poll that
	// finds nothing is a long poll held by the server, which costs little.
	DefaultActivityPollers = 8
)

// Config is the settings of one process.
type Config struct {
	DatabaseURL string
	// Temporal is the connection profile envconfig loaded (TOML profile, then
	// the TEMPORAL_* variables): API key, TLS, gRPC headers. Its address and
	// namespace are resolved into the two fields below, which are what the
	// dial uses, so a test can point a loaded configuration elsewhere.
	Temporal          envconfig.ClientConfigProfile
	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	EmailTaskQueue    string
	EmailRate         float64
	// EmailConfirmWindow is how long a send whose answer was lost is looked
	// for in SendGrid's Email Activity before it is sent again; 0 leaves the
	// mailer's default (activities.DefaultConfirmWindow).
	EmailConfirmWindow time.Duration
	WorkflowPollers    int
	ActivityPollers    int
	MaxActivities      int
	MaxWorkflowTasks   int
	StickyCacheSize    int
	StickyTimeout      time.Duration
	DBMaxConns         int32
	SendGridAPIKey     string
	// CodecKeyFile and CodecKeys are where the payload encryption keys come
	// from (codec.Load reads them); both empty leaves payloads in clear.
	// CodecKeys is secret: never log it.
	CodecKeyFile   string
	CodecKeys      string
	SendGridAPIURL string
	LogFormat      string
	LogLevel       string
	// PprofAddr, when set, is where the worker serves net/http/pprof
	// (e.g. localhost:6060), for profiling; empty serves nothing.
	PprofAddr string
	// MetricsAddr, when set, is where the worker serves Prometheus metrics
	// at /metrics (e.g. 0.0.0.0:9090); empty serves nothing.
	MetricsAddr string
}

// CaptureMode reports whether mail is recorded instead of sent: there is no
// SendGrid key, so the demo and tests work offline.
func (c Config) CaptureMode() bool { return c.SendGridAPIKey == "" }

// FromEnv reads the configuration, reporting every malformed variable at once.
func FromEnv() (Config, error) {
	return fromLookup(envconfig.EnvLookupOS)
}

func fromLookup(env envconfig.EnvLookup) (Config, error) {
	lookup := env.LookupEnv
	var problems []string
	str := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	num := func(name string, def int) int {
		v := str(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("%s=%q: want a whole number >= 0", name, v))
			return def
		}
		return n
	}
	c := Config{
		DatabaseURL:      str(EnvDatabaseURL, DefaultDatabaseURL),
		TaskQueue:        str(EnvTaskQueue, DefaultTaskQueue),
		EmailTaskQueue:   str(EnvEmailTaskQueue, ""),
		EmailRate:        DefaultEmailRate,
		WorkflowPollers:  num(EnvWorkflowPollers, DefaultWorkflowPollers),
		ActivityPollers:  num(EnvActivityPollers, DefaultActivityPollers),
		MaxActivities:    num(EnvMaxActivities, 0),
		MaxWorkflowTasks: num(EnvMaxWorkflowTasks, 0),
		StickyCacheSize:  num(EnvStickyCacheSize, DefaultStickyCacheSize),
		StickyTimeout:    DefaultStickyTimeout,
		DBMaxConns:       int32(num(EnvDBMaxConns, 0)),
		PprofAddr:        str(EnvPprofAddr, ""),
		MetricsAddr:      str(EnvMetricsAddr, ""),
		SendGridAPIKey:   str(EnvSendGridAPIKey, ""),
		CodecKeyFile:     str(EnvCodecKeyFile, ""),
		CodecKeys:        str(EnvCodecKeys, ""),
		SendGridAPIURL:   str(EnvSendGridAPIURL, DefaultSendGridAPIURL),
		LogFormat:        str(EnvLogFormat, "auto"),
		LogLevel:         str(EnvLogLevel, "info"),
	}
	if v := str(EnvEmailRate, ""); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 {
			problems = append(problems, fmt.Sprintf("%s=%q: want messages per second >= 0 (0 = unlimited)", EnvEmailRate, v))
		} else {
			c.EmailRate = r
		}
	}
	dur := func(name string, least time.Duration, into *time.Duration) {
		v := str(name, "")
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < least {
			problems = append(problems, fmt.Sprintf("%s=%q: want a duration of at least %s, such as 30s or 2m", name, v, least))
			return
		}
		*into = d
	}
	dur(EnvStickyTimeout, time.Second, &c.StickyTimeout)
	dur(EnvEmailConfirm, time.Second, &c.EmailConfirmWindow)
	if c.EmailTaskQueue == "" {
		c.EmailTaskQueue = EmailQueueFor(c.TaskQueue)
	}
	switch c.LogFormat {
	case "auto", "json", "console":
	default:
		problems = append(problems, fmt.Sprintf("%s=%q: want auto, json or console", EnvLogFormat, c.LogFormat))
	}
	if err := c.loadTemporal(env); err != nil {
		problems = append(problems, err.Error())
	}
	if i := strings.IndexFunc(c.SendGridAPIKey, notKeyChar); i >= 0 {
		// Sent as an HTTP header, such a key fails every email; the key is
		// a secret, so only where it breaks is said.
		problems = append(problems, fmt.Sprintf("%s has a space or control character at byte %d (the key is not shown)", EnvSendGridAPIKey, i+1))
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// loadTemporal reads the Temporal connection the way the Temporal CLI and
// SDKs do, fills in the local defaults for an unset address or namespace,
// and checks the profile once here (TLS files readable, cert and key
// paired), so a bad setting is refused at start with the variable's name.
func (c *Config) loadTemporal(env envconfig.EnvLookup) error {
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{EnvLookup: env, ConfigFileStrict: true})
	if err != nil {
		file, _ := env.LookupEnv(EnvTemporalConfigFile)
		if file == "" {
			file = envconfig.DefaultConfigFilePath() + " (the default; " + EnvTemporalConfigFile + " names another)"
		}
		profile, _ := env.LookupEnv(EnvTemporalProfile)
		if profile == "" {
			profile = envconfig.DefaultConfigFileProfile
		}
		return fmt.Errorf("the Temporal connection profile %q in %s: %w", profile, file, err)
	}
	c.Temporal = prof
	c.TemporalAddress = strings.TrimSpace(prof.Address)
	if c.TemporalAddress == "" {
		c.TemporalAddress = DefaultTemporalAddress
	}
	c.TemporalNamespace = strings.TrimSpace(prof.Namespace)
	if c.TemporalNamespace == "" {
		c.TemporalNamespace = DefaultTemporalNamespace
	}
	if _, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{}); err != nil {
		return fmt.Errorf("the Temporal connection to %s (%s, %s, %s, %s): %w",
			c.TemporalAddress, EnvTemporalTLSCert, EnvTemporalTLSKey, EnvTemporalTLSCA, EnvTemporalAPIKey, err)
	}
	return nil
}

// TemporalTLS reports whether the Temporal connection uses TLS: set by a
// TLS setting, or implied by an API key (Temporal Cloud), as envconfig does.
func (c Config) TemporalTLS() bool {
	if c.Temporal.TLS != nil {
		return !c.Temporal.TLS.Disabled
	}
	return c.Temporal.APIKey != ""
}

// Names lists every environment variable tiershift reads.
func Names() []string {
	return []string{
		EnvDatabaseURL, EnvTemporalAddress, EnvTemporalNamespace, EnvTemporalAPIKey, EnvTemporalTLS,
		EnvTemporalTLSCert, EnvTemporalTLSKey, EnvTemporalTLSCA, EnvTemporalTLSName, EnvTemporalConfigFile,
		EnvTemporalProfile, EnvTaskQueue,
		EnvEmailTaskQueue, EnvEmailRate, EnvEmailConfirm, EnvWorkflowPollers, EnvActivityPollers,
		EnvMaxActivities, EnvMaxWorkflowTasks, EnvStickyCacheSize, EnvStickyTimeout, EnvDBMaxConns, EnvPprofAddr,
		EnvMetricsAddr,
		EnvSendGridAPIKey, EnvSendGridAPIURL, EnvLogFormat, EnvLogLevel,
		EnvCodecKeyFile, EnvCodecKeys, EnvCodecToken, EnvCodecTokenFile,
	}
}

// EmailQueueFor is the email task queue paired with a workflow task queue
// when none is configured: the default pair, or "<queue>-email", so tests and
// side-by-side deployments never share an email queue by accident.
func EmailQueueFor(taskQueue string) string {
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return DefaultEmailTaskQueue
	}
	return taskQueue + "-email"
}

// notKeyChar is true for what an API key never holds: spaces and control
// characters.
func notKeyChar(r rune) bool { return r <= ' ' || r == 0x7f }

package config

import (
	"strings"
	"testing"
	"time"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestWorkerTuningFromTheEnvironment(t *testing.T) {
	c, err := fromLookup(lookupFrom(nil))
	if err != nil || c.StickyTimeout != DefaultStickyTimeout || c.WorkflowPollers != DefaultWorkflowPollers || c.PprofAddr != "" ||
		c.StickyCacheSize != DefaultStickyCacheSize {
		t.Fatalf("defaults: sticky timeout %v, %d workflow pollers, pprof %q, cache %d, %v", c.StickyTimeout, c.WorkflowPollers, c.PprofAddr, c.StickyCacheSize, err)
	}
	c, err = fromLookup(lookupFrom(map[string]string{EnvStickyTimeout: "90s", EnvPprofAddr: " localhost:6060 ", EnvStickyCacheSize: "0"}))
	if err != nil || c.StickyTimeout != 90*time.Second || c.PprofAddr != "localhost:6060" || c.StickyCacheSize != 0 {
		t.Fatalf("set: sticky timeout %v, pprof %q, cache %d, %v", c.StickyTimeout, c.PprofAddr, c.StickyCacheSize, err)
	}
	for _, bad := range []string{"soon", "500ms", "-1m"} {
		if _, err := fromLookup(lookupFrom(map[string]string{EnvStickyTimeout: bad})); err == nil || !strings.Contains(err.Error(), EnvStickyTimeout) {
			t.Errorf("%s=%q: %v; want an error naming the variable", EnvStickyTimeout, bad, err)
		}
	}
}

func TestEmailConfirmWindowFromTheEnvironment(t *testing.T) {
	c, err := fromLookup(lookupFrom(nil))
	if err != nil || c.EmailConfirmWindow != 0 {
		t.Fatalf("default: %v %v; want 0 (the mailer's default)", c.EmailConfirmWindow, err)
	}
	c, err = fromLookup(lookupFrom(map[string]string{EnvEmailConfirm: "15m"}))
	if err != nil || c.EmailConfirmWindow != 15*time.Minute {
		t.Fatalf("set: %v %v", c.EmailConfirmWindow, err)
	}
	for _, bad := range []string{"later", "0s", "-5m"} {
		if _, err := fromLookup(lookupFrom(map[string]string{EnvEmailConfirm: bad})); err == nil || !strings.Contains(err.Error(), EnvEmailConfirm) {
			t.Errorf("%s=%q: %v; want an error naming the variable", EnvEmailConfirm, bad, err)
		}
	}
}

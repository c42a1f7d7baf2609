package program

import (
	"strings"
	"testing"
	"testing/quick"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	ok := map[string]Duration{
		"6 months": {Months: 6}, "6 month": {Months: 6}, "6mo": {Months: 6}, "9 months": {Months: 9},
		"1 month": {Months: 1}, "30 days": {Days: 30}, "30d": {Days: 30}, "1 day": {Days: 1},
		"2 weeks": {Days: 14}, "2w": {Days: 14}, "10 minutes": {Minutes: 10}, "10 min": {Minutes: 10},
		"10min": {Minutes: 10}, "1 hour": {Minutes: 60}, "1h": {Minutes: 60}, " 3 Minutes ": {Minutes: 3},
		"1 month 2 days": {Months: 1, Days: 2}, "1 month, 2 days and 3 hours": {Months: 1, Days: 2, Minutes: 180},
	}
	for in, want := range ok {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                 "empty",
		"0 days":           "must be positive",
		"-6 months":        "must be positive",
		"5m":               "use mo for months or min for minutes",
		"5 m":              "use mo for months or min for minutes",
		"six months":       "expected a number",
		"6":                "missing unit",
		"6 fortnights":     "unknown unit",
		"99999999999 days": "too large",
	}
	for in, want := range bad {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestDurationRoundTrip(t *testing.T) {
	f := func(m, d, min uint16) bool {
		in := Duration{Months: int(m % 500), Days: int(d % 5000), Minutes: int(min)}
		if in.IsZero() {
			return true
		}
		out, err := ParseDuration(in.String())
		return err == nil && out == in
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}

func TestParseMoney(t *testing.T) {
	ok := map[string]Money{
		"10000": 1000000, "10000.50": 1000050, "1000000": 100000000, "10 000": 1000000,
		"10,000": 1000000, "10 000,50": 1000050, "1.000.000,50": 100000050, "1,000,000.50": 100000050,
		"10\u00a0000": 1000000, "10\u202f000,5": 1000050, "$10,000": 1000000, "10 000 €": 1000000,
		"USD 250": 25000, "250 eur": 25000, "10.000": 1000000, "0": 0, "0,99": 99, "12.5": 1250, "1 000 000": 100000000,
	}
	for in, want := range ok {
		got, err := ParseMoney(in)
		if err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                     "empty",
		"-5":                   "must not be negative",
		"$-5":                  "must not be negative",
		"abc":                  "unexpected character",
		"10.5.5":               "three digits",
		"1,0000":               "decimals",
		"10 00":                "three digits",
		"10.000,123":           "decimals",
		"1,000.000.5":          "",
		"10,,000":              "",
		"99999999999999999999": "too large",
	}
	for in, want := range bad {
		got, err := ParseMoney(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMoney(%q) = %d, %v; want error %q", in, got, err, want)
		}
	}
}

func TestMoneyRoundTrip(t *testing.T) {
	f := func(v uint64) bool {
		m := Money(v % 1e17)
		got, err := ParseMoney(m.String())
		return err == nil && got == m
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
	if s := Money(1000050).String(); s != "10000.50" {
		t.Errorf("String = %q", s)
	}
	if s := Money(1000000).String(); s != "10000" {
		t.Errorf("String = %q", s)
	}
}

func TestYAMLScalars(t *testing.T) {
	var v struct {
		Grace   Duration `yaml:"grace"`
		Revenue Money    `yaml:"revenue"`
		Plain   Money    `yaml:"plain"`
	}
	if err := yaml.Unmarshal([]byte("grace: 9 months\nrevenue: \"10 000,50\"\nplain: 10000\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.Grace != (Duration{Months: 9}) || v.Revenue != 1000050 || v.Plain != 1000000 {
		t.Errorf("got %+v", v)
	}
	if err := yaml.Unmarshal([]byte("grace: 5m\n"), &v); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("want a located error, got %v", err)
	}
}

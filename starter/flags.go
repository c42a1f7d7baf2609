package main

import "strings"

// isFlagError reports whether cobra rejected the command line itself.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument", "required flag", "unknown command", "accepts ", "requires at least", "requires at most"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

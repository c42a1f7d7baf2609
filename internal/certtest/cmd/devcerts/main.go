// Command devcerts writes a fresh CA, a server certificate for localhost and
// 127.0.0.1 and a client certificate into a directory, for
// `make test-cluster`, which runs the cluster with mTLS. The keys are made on
// the machine that uses them and never leave it; they expire after a day.
package main

import (
	"fmt"
	"os"

	"github.com/tiershift/tiershift/internal/certtest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: devcerts DIR")
		os.Exit(2)
	}
	if _, err := certtest.Write(os.Args[1], "tiershift-cluster"); err != nil {
		fmt.Fprintf(os.Stderr, "devcerts: %v\n", err)
		os.Exit(1)
	}
}

// Command sendgridstub serves a local stand-in for SendGrid's Mail Send API
// and logs every message it accepts, for demos: point SENDGRID_API_URL at it
// and set SENDGRID_API_KEY to anything (or to -key).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tiershift/tiershift/internal/sendgridstub"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8025", "address to listen on")
	key := flag.String("key", "", "the only API key to accept (default: any)")
	reject := flag.String("reject", "", "comma-separated recipient addresses to answer 400")
	flag.Parse()

	stub, err := sendgridstub.Start(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sendgridstub:", err)
		os.Exit(1)
	}
	stub.SetKey(*key)
	for _, a := range strings.Split(*reject, ",") {
		if a = strings.TrimSpace(a); a != "" {
			stub.RejectAddress(a, 400, "The email address is rejected by sendgridstub -reject.")
		}
	}
	stub.OnMessage(func(m sendgridstub.Message) {
		fmt.Printf("%s  %s  to=%s  kind=%s  partner=%s  dedupe=%s  subject=%q\n",
			m.Received.Format("15:04:05"), m.MessageID, m.To, m.CustomArgs["kind"], m.CustomArgs["partner_id"], m.DedupeKey(), m.Subject)
	})
	fmt.Printf("sendgridstub: listening on %s (SENDGRID_API_URL=%s)\n", stub.URL, stub.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	stub.Close()
}

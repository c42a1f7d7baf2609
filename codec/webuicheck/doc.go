// Package webuicheck holds the real-browser check of the codec server: a
// dev server of its own whose Web UI is pointed at the codec server, one
// workflow with an encrypted input and result, and headless Chromium
// reading the workflow's page with and without the codec server. It has
// no code outside its test.
package webuicheck

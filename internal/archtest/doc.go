// Package archtest holds the architecture test: it lists the module's
// packages with `go list` and checks the layers (cmd -> tui ->
// views/<pane> -> views -> backend -> nodeimage, tunnel), so an upward
// import fails the build's tests instead of waiting for a review.
package archtest

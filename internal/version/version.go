// Package version holds the build version, set by the linker (see Makefile).
package version

// Version is overwritten at link time with `git describe`.
var Version = "dev"

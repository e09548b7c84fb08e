//go:build replicastdebug

package replicast

import "runtime"

// debugGC collects garbage before every C call so that a missing runtime.KeepAlive shows up
// as a use-after-free under tests (go test -tags replicastdebug).
func debugGC() { runtime.GC() }

//go:build !replicastdebug

package replicast

func debugGC() {}

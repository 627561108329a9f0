//go:build !linux

package main

// dropPageCache is a no-op where RSS is not measured (no /proc).
func dropPageCache(string) error { return nil }

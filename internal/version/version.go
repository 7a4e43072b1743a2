// Package version reports graphgate's version.
package version

import "runtime/debug"

// Version is set at build time with -ldflags "-X graphgate/internal/version.Version=v1.2.3".
var Version = "dev"

// String returns the version and, when the binary was built from a VCS
// checkout, the revision.
func String() string {
	v := Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

// Package localefix keeps Fyne from logging "Error parsing user locale C"
// in every run of the binary (CLI commands included) where the locale is
// C.UTF-8 or POSIX.UTF-8, the default of containers and CI images.
//
// Fyne's lang package looks the locale up in its init; its locale library
// treats exactly "C" and "POSIX" as "no locale" but turns "C.UTF-8" into
// the tag "C", which does not parse. Where the locale has that form and
// LANGUAGE is unset, this package sets LANGUAGE=en, which the library reads
// instead. Go initialises packages in import-path order among those ready
// (Go ≥1.21), so this package, which needs only os, runs before "log" and
// therefore before Fyne's lang, which needs log. Restore, called from the
// app package's init (after Fyne's), puts the environment back, so child
// processes see it unchanged.
package localefix

import (
	"os"
	"strings"
)

var changed bool

func init() {
	if os.Getenv("LANGUAGE") != "" || !isCWithCodeset(effectiveLocale()) {
		return
	}
	if os.Setenv("LANGUAGE", "en") == nil {
		changed = true
	}
}

// effectiveLocale is the messages locale as gettext (and Fyne) chooses it.
func effectiveLocale() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func isCWithCodeset(locale string) bool {
	return strings.HasPrefix(locale, "C.") || strings.HasPrefix(locale, "POSIX.")
}

// Restore undoes init's change of the environment, if any.
func Restore() {
	if changed {
		os.Unsetenv("LANGUAGE")
		changed = false
	}
}

package printing

import (
	"os"
	"strings"
)

// defaultLanguage is the natural language of IPP requests when the locale
// names none CUPS can take.
const defaultLanguage = "en"

// LocaleLanguage is the IPP natural language (RFC 8011 naturalLanguage, a
// lower-case RFC 5646 tag such as "de-de") of the user's locale, read from
// LC_ALL, LC_MESSAGES and LANG as setlocale does, or "en" for the C/POSIX
// locale, no locale, or one that is not a language tag.
//
// Lower case is not a nicety: CUPS 2.4.2-3+deb12u10 (Debian security
// update, 2026-11-20) refuses "en-US", go-ipp's default, with
// client-error-bad-request. CUPS takes every well-formed lower-case tag
// (measured: "xx-yy" passes) and answers in the languages it has
// catalogues for, in English otherwise.
func LocaleLanguage() string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(name); v != "" {
			return ippLanguage(v)
		}
	}
	return defaultLanguage
}

// ippLanguage turns a POSIX locale name ("de_DE.UTF-8@euro", "pt_BR", "C")
// or a language tag ("en-US") into a valid lower-case IPP natural
// language, "en" when it holds none.
func ippLanguage(locale string) string {
	// Drop the codeset and the modifier: "de_DE.UTF-8@euro" -> "de_DE".
	if i := strings.IndexAny(locale, ".@"); i >= 0 {
		locale = locale[:i]
	}
	tag := strings.ToLower(strings.ReplaceAll(locale, "_", "-"))
	if !validLanguageTag(tag) {
		return defaultLanguage
	}
	return tag
}

// validLanguageTag accepts the lower-case tags CUPS takes: a 2-3 letter
// language followed by up to three subtags of 2-8 letters or digits ("de",
// "de-de", "es-419", "sr-latn-rs"). "c" and "posix" are locales, not
// languages.
func validLanguageTag(tag string) bool {
	parts := strings.Split(tag, "-")
	if len(parts) > 4 || len(parts[0]) < 2 || len(parts[0]) > 3 {
		return false
	}
	for i, p := range parts {
		if len(p) < 2 || len(p) > 8 {
			return false
		}
		for _, r := range p {
			letter := r >= 'a' && r <= 'z'
			digit := r >= '0' && r <= '9'
			if !letter && (i == 0 || !digit) {
				return false
			}
		}
	}
	return true
}

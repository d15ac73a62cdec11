package printing

import (
	"strings"
	"testing"
)

func TestIPPLanguage(t *testing.T) {
	tests := []struct{ locale, want string }{
		{"en_US.UTF-8", "en-us"},
		{"de_DE.UTF-8@euro", "de-de"},
		{"de_DE", "de-de"},
		{"fr", "fr"},
		{"pt_BR.utf8", "pt-br"},
		{"en-US", "en-us"}, // go-ipp's default, refused by CUPS as it is
		{"es_419", "es-419"},
		{"sr_RS@latin", "sr-rs"},
		{"C", "en"},
		{"C.UTF-8", "en"},
		{"POSIX", "en"},
		{"", "en"},
		{"x", "en"},
		{"en_US/../x", "en"},
		{"d3_DE", "en"},
		{"en-us-a-b-c", "en"},
		{"tlh", "tlh"},
	}
	for _, tt := range tests {
		if got := ippLanguage(tt.locale); got != tt.want {
			t.Errorf("ippLanguage(%q) = %q, want %q", tt.locale, got, tt.want)
		}
	}
}

func TestLocaleLanguageOrder(t *testing.T) {
	t.Setenv("LANG", "fr_FR.UTF-8")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LC_ALL", "")
	if got := LocaleLanguage(); got != "fr-fr" {
		t.Errorf("LANG only: %q", got)
	}
	t.Setenv("LC_MESSAGES", "de_AT.UTF-8")
	if got := LocaleLanguage(); got != "de-at" {
		t.Errorf("LC_MESSAGES over LANG: %q", got)
	}
	t.Setenv("LC_ALL", "C")
	if got := LocaleLanguage(); got != "en" {
		t.Errorf("LC_ALL=C over the rest: %q", got)
	}
}

// FuzzIPPLanguage: whatever the environment holds, the language is one a
// strict IPP server takes: lower case, well formed, never empty.
func FuzzIPPLanguage(f *testing.F) {
	for _, s := range []string{"en_US.UTF-8", "C", "", "de_DE@euro", "zh_Hans_CN", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, locale string) {
		got := ippLanguage(locale)
		if !validLanguageTag(got) || got != strings.ToLower(got) || len(got) > 35 {
			t.Fatalf("ippLanguage(%q) = %q", locale, got)
		}
	})
}

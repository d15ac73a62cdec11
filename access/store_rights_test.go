package access

import "testing"

// TestRightOf: an account's own entry wins over the guests' right, and
// an explicit "none" refuses the account even where guests are let in
// (the access editor's "no access"); an account without an entry gets
// what guests get.
func TestRightOf(t *testing.T) {
	sh := Share{Access: map[string]Right{"alice": RightNone, "bob": RightRW}, Guest: RightRO}
	tests := []struct {
		account string
		want    Right
	}{
		{"alice", RightNone},
		{"bob", RightRW},
		{"carol", RightRO},
		{GuestUser, RightRO},
		{"", RightRO},
	}
	for _, tt := range tests {
		if got := sh.RightOf(tt.account); got != tt.want {
			t.Errorf("RightOf(%q) = %q, want %q", tt.account, got, tt.want)
		}
	}
}

package node

import (
	"runtime"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/discovery"
)

// diagnose turns what the network check measured into problems, each with
// the one thing to do; the bed shows the firewall and client isolation
// cases live (test/integration), this every case, clock skew included
// (the bed cannot skew one namespace's clock).
func TestDiagnose(t *testing.T) {
	bufferFixWords := "net.core.rmem_max=4194304"
	if runtime.GOOS != "linux" {
		bufferFixWords = "restart Peerdesk"
	}
	yes, no := true, false
	skew := func(ms int64) *int64 { return &ms }
	eth := []DoctorInterface{{Name: "eth0", Addresses: []string{"10.0.0.2/24"}, MDNSQueries: 5, MDNSAnswers: 3}}
	quiet := []DoctorInterface{{Name: "wlan0", Addresses: []string{"10.0.0.2/24"}, MDNSQueries: 5}}
	answered := &discovery.BrowserStats{Answers: 3}
	tests := []struct {
		name  string
		r     DoctorReport
		stats *discovery.BrowserStats
		want  []string // in the fixes, in order; none: healthy
	}{
		{"healthy", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Reachable: true, ReachesUs: &yes, ClockSkewMillis: skew(20)}}}, answered, nil},
		{"no network", DoctorReport{Port: 47220}, nil, []string{"Connect this PC"}},
		{"multicast blocked", DoctorReport{Port: 47220, Interfaces: quiet}, &discovery.BrowserStats{}, []string{"peer add ADDRESS"}},
		{"client isolation", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Address: "10.0.0.3:47220"}, {ID: "c", Name: "pc3", Address: "10.0.0.4:47220"}}}, answered,
			[]string{"client isolation", "pc2 is on", "pc3 is on"}},
		{"their firewall", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Address: "10.0.0.3:47299", ReachesUs: &yes}}}, answered,
			[]string{"On pc2, allow Peerdesk (UDP port 47299)"}},
		{"our firewall", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Reachable: true, ReachesUs: &no}}}, answered,
			[]string{"(UDP port 47220) in this PC's firewall"}},
		{"clock skew", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Reachable: true, ReachesUs: &yes, ClockSkewMillis: skew(-3*60*1000 - 400)}}}, answered,
			[]string{"automatic date and time"}},
		{"capped socket buffers", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Reachable: true, ReachesUs: &yes}},
			Buffers: DoctorBuffers{ReceiveKiB: 208, SendKiB: 208, WantKiB: 4096}}, answered, []string{bufferFixWords}},
		{"no network and capped buffers", DoctorReport{Port: 47220, Buffers: DoctorBuffers{ReceiveKiB: 208, SendKiB: 4096, WantKiB: 4096}}, nil,
			[]string{"Connect this PC", bufferFixWords}},
		{"buffers as wanted", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Reachable: true, ReachesUs: &yes}},
			Buffers: DoctorBuffers{ReceiveKiB: 4096, SendKiB: 4096, WantKiB: 4096}}, answered, nil},
		{"clock within a minute", DoctorReport{Port: 47220, Interfaces: eth, Peers: []DoctorPeer{{ID: "b", Name: "pc2", Reachable: true, ReachesUs: &yes, ClockSkewMillis: skew(59_000)}}}, answered, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diagnose(tt.r, tt.stats)
			if len(got) != len(tt.want) {
				t.Fatalf("%d problems %+v, want %d (%q)", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Fix, w) || got[i].Problem == "" {
					t.Errorf("problem %d = %+v, want a fix with %q", i, got[i], w)
				}
			}
			if tt.name == "clock skew" && !strings.Contains(got[0].Problem, "3m0s") {
				t.Errorf("skew said as %q, want the difference rounded to seconds", got[0].Problem)
			}
		})
	}
}

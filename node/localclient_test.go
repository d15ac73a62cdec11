package node

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/control"
)

// TestLocalClientCoversEveryOp calls every LocalClient method against a
// running peer: each reaches a handler (no "unknown op"), and every op
// the peer serves is reached by some method, so an op added without its
// client method, or a method whose op name is wrong, fails here.
func TestLocalClientCoversEveryOp(t *testing.T) {
	home := filepath.Join(t.TempDir(), "a")
	n := startNode(t, home, "alice", 0)
	var mu sync.Mutex
	reached := map[string]bool{}
	for op, fn := range n.ctrlMux {
		n.ctrlMux[op] = func(ctx context.Context, op string, args json.RawMessage) (any, error) {
			mu.Lock()
			reached[op] = true
			mu.Unlock()
			return fn(ctx, op, args)
		}
	}
	c := LocalClient{Home: home}
	ct := reflect.TypeOf(c)
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		args := []reflect.Value{reflect.ValueOf(c)}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		for j := 1; j < m.Type.NumIn(); j++ {
			in := m.Type.In(j)
			if in == reflect.TypeFor[context.Context]() {
				args = append(args, reflect.ValueOf(ctx))
				continue
			}
			args = append(args, reflect.Zero(in)) // zero arguments: a refusal is an answer too
		}
		out := m.Func.Call(args)
		cancel()
		err, _ := out[len(out)-1].Interface().(error)
		if errors.Is(err, ErrUnknownCommand) || errors.Is(err, control.ErrNotRunning) {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	var missing []string
	for op := range n.ctrlMux {
		if !reached[op] {
			missing = append(missing, op)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("ops no LocalClient method reaches: %v", missing)
	}
	if len(reached) < 33 {
		t.Errorf("reached %d ops, want every one of the 33", len(reached))
	}
	// The answers come back typed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := c.ID(ctx)
	if err != nil || id.ID != n.Identity.ID.String() || id.Name != "alice" {
		t.Fatalf("ID: %+v, %v", id, err)
	}
	if err := c.AddUser(ctx, UserArgs{Name: "bob", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	users, err := c.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Name != "bob" {
		t.Fatalf("Users: %+v, %v", users, err)
	}
	if _, err := c.Ping(ctx, "nobody"); !errors.Is(err, ErrPeerNotFound) {
		t.Fatalf("Ping nobody: %v, want ErrPeerNotFound", err)
	}
}

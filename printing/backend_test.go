package printing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// scriptedJob plays a sequence of answers to followJob, repeating the last.
func scriptedJob(answers ...func() (JobStatus, error)) func(context.Context) (JobStatus, error) {
	i := 0
	return func(context.Context) (JobStatus, error) {
		a := answers[min(i, len(answers)-1)]
		i++
		return a()
	}
}

func status(state JobState, msg string) func() (JobStatus, error) {
	return func() (JobStatus, error) { return JobStatus{ID: 7, Queue: "Q", State: state, Message: msg}, nil }
}

func failure(err error) func() (JobStatus, error) {
	return func() (JobStatus, error) { return JobStatus{}, err }
}

var fastPoll = pollSchedule{first: time.Millisecond, fast: 10 * time.Millisecond, max: 5 * time.Millisecond}

func TestFollowJob(t *testing.T) {
	tests := []struct {
		name      string
		answers   []func() (JobStatus, error)
		wantState JobState
		wantErr   []error
		changes   int
	}{
		{"completed", []func() (JobStatus, error){status(JobPending, ""), status(JobProcessing, "printing"), status(JobProcessing, "printing"), status(JobCompleted, "")},
			JobCompleted, nil, 3},
		{"aborted", []func() (JobStatus, error){status(JobProcessing, ""), status(JobAborted, "filter failed")},
			JobAborted, []error{ErrJobFailed}, 2},
		{"canceled", []func() (JobStatus, error){status(JobCanceled, "canceled by user")},
			JobCanceled, []error{ErrJobCanceled}, 1},
		{"vanished is a failure, never success", []func() (JobStatus, error){status(JobPending, "paused"), failure(ErrJobVanished)},
			JobAborted, []error{ErrJobFailed, ErrJobVanished}, 2},
		{"spooler restarting is waited out", []func() (JobStatus, error){status(JobProcessing, ""), failure(ErrUnavailable), failure(ErrUnavailable), status(JobCompleted, "")},
			JobCompleted, nil, 2},
		{"other errors end the wait", []func() (JobStatus, error){failure(ErrNotAuthorized)},
			"", []error{ErrNotAuthorized}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			var changes []JobStatus
			st, err := followJob(ctx, "Q", 7, fastPoll, scriptedJob(tt.answers...), func(s JobStatus) { changes = append(changes, s) }, nil)
			if st.State != tt.wantState {
				t.Errorf("state %q, want %q", st.State, tt.wantState)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("error %v, want %v", err, want)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("error %v, want none", err)
			}
			if len(changes) != tt.changes {
				t.Errorf("onChange called %d times (%v), want %d", len(changes), changes, tt.changes)
			}
		})
	}
}

func TestFollowJobDeadlineKeepsLastStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	st, err := followJob(ctx, "Q", 7, fastPoll, scriptedJob(status(JobProcessing, "The printer is not responding.")), nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	if st.State != JobProcessing || !strings.Contains(err.Error(), "The printer is not responding.") {
		t.Errorf("got %s, %v; want the last status and its message in the error", st, err)
	}
}

func TestFollowJobVanishedHook(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	hook := func(last JobStatus, seen bool, err error) (JobStatus, error) {
		if !errors.Is(err, ErrJobVanished) {
			t.Errorf("hook got %v", err)
		}
		if !seen || last.State != JobProcessing {
			t.Errorf("hook got %s, seen %v", last, seen)
		}
		last.State = JobCompleted
		return last, nil
	}
	st, err := followJob(ctx, "Q", 7, fastPoll, scriptedJob(status(JobProcessing, ""), failure(ErrJobVanished)), nil, hook)
	if err != nil || st.State != JobCompleted {
		t.Errorf("got %s, %v; want the hook's verdict", st, err)
	}
}

func TestSubmitRequestValidate(t *testing.T) {
	doc := strings.NewReader("x")
	tests := []struct {
		req     SubmitRequest
		wantErr bool
	}{
		{SubmitRequest{Queue: "Q", User: "a@b", Document: doc}, false},
		{SubmitRequest{Queue: "Q", User: "a@b", Document: doc, Copies: MaxCopies}, false},
		{SubmitRequest{User: "a@b", Document: doc}, true},
		{SubmitRequest{Queue: "Q", Document: doc}, true},
		{SubmitRequest{Queue: "Q", User: "a\nb", Document: doc}, true},
		{SubmitRequest{Queue: "Q", User: strings.Repeat("u", 256), Document: doc}, true},
		{SubmitRequest{Queue: "Q", User: "a@b"}, true},
		{SubmitRequest{Queue: "Q", User: "a@b", Document: doc, Copies: -1}, true},
		{SubmitRequest{Queue: "Q", User: "a@b", Document: doc, Copies: MaxCopies + 1}, true},
		{SubmitRequest{Queue: "Q", User: "a@b", Document: doc, Size: -1}, true},
	}
	for _, tt := range tests {
		if err := tt.req.validate(); (err != nil) != tt.wantErr {
			t.Errorf("validate(%+v) = %v, want error %v", tt.req, err, tt.wantErr)
		}
	}
}

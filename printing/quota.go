package printing

import (
	"fmt"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/access"
)

// DefaultCopiesPerHour bounds the copies one peer's account may print on
// this peer's printers in an hour, so that a colleague's script (or a
// stranger with the guest right) cannot empty the paper tray: a job of 999
// copies was accepted before. ServiceConfig.CopiesPerHour changes it.
const DefaultCopiesPerHour = 200

// copyQuota counts the copies each (peer, account) printed in the last hour.
type copyQuota struct {
	limit int
	mu    sync.Mutex
	used  map[quotaKey][]quotaUse
}

type quotaKey struct{ peer, account string }

type quotaUse struct {
	at     time.Time
	copies int
}

// maxQuotaKeys bounds the (peer, account) pairs tracked; fresh identities
// are free to make, so the oldest-idle pairs are forgotten first.
const maxQuotaKeys = 4096

func newCopyQuota(limit int) *copyQuota {
	if limit <= 0 {
		limit = DefaultCopiesPerHour
	}
	return &copyQuota{limit: limit, used: map[quotaKey][]quotaUse{}}
}

// take reserves copies for k at now, or says when enough will be free.
// The returned undo gives them back (a job the spooler refused).
func (q *copyQuota) take(k quotaKey, copies int, now time.Time) (undo func(), err error) {
	copies = max(copies, 1)
	q.mu.Lock()
	defer q.mu.Unlock()
	uses := q.used[k]
	for len(uses) > 0 && now.Sub(uses[0].at) >= time.Hour {
		uses = uses[1:]
	}
	sum := 0
	for _, u := range uses {
		sum += u.copies
	}
	if copies > q.limit {
		return nil, fmt.Errorf("%w: %d copies in one job; this printer's owner allows %d an hour", access.ErrBusy, copies, q.limit)
	}
	if sum+copies > q.limit {
		// The oldest jobs free their copies first.
		free, when := q.limit-sum, now
		for _, u := range uses {
			free += u.copies
			when = u.at.Add(time.Hour)
			if free >= copies {
				break
			}
		}
		mins := int((when.Sub(now) + time.Minute - 1) / time.Minute)
		return nil, fmt.Errorf("%w: %d copies printed in the last hour, %d allowed; %d more can print in %d min",
			access.ErrBusy, sum, q.limit, copies, mins)
	}
	if len(uses) == 0 && len(q.used) >= maxQuotaKeys {
		q.forgetIdle(now)
	}
	use := quotaUse{at: now, copies: copies}
	q.used[k] = append(uses, use)
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		us := q.used[k]
		for i := len(us) - 1; i >= 0; i-- {
			if us[i] == use {
				q.used[k] = append(us[:i:i], us[i+1:]...)
				break
			}
		}
	}, nil
}

// forgetIdle drops pairs with nothing in the last hour, or if none is
// idle, the one whose last job is oldest.
func (q *copyQuota) forgetIdle(now time.Time) {
	var oldest quotaKey
	var oldestAt time.Time
	for k, us := range q.used {
		if len(us) == 0 || now.Sub(us[len(us)-1].at) >= time.Hour {
			delete(q.used, k)
			continue
		}
		if last := us[len(us)-1].at; oldestAt.IsZero() || last.Before(oldestAt) {
			oldest, oldestAt = k, last
		}
	}
	if len(q.used) >= maxQuotaKeys {
		delete(q.used, oldest)
	}
}

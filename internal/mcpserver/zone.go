package mcpserver

import (
	"context"
	"net/url"
	"sync"
	"time"

	"graphgate/internal/graphapi"
	"graphgate/internal/timezone"
)

// mailboxZone is a person's time zone and where graphgate learnt it.
type mailboxZone struct {
	name   string // IANA
	source string // "mailbox settings", "calendar" or "default"
	// unknown is a zone name Microsoft gave that graphgate cannot
	// resolve: the person is told, rather than shown UTC as if it were so.
	unknown string
	at      time.Time
}

// zoneCache remembers mailbox zones for an hour: they rarely change, and
// finding one costs a Graph call or two.
type zoneCache struct {
	mu sync.Mutex
	m  map[int64]mailboxZone
}

const zoneTTL = time.Hour

// zoneOfMailbox finds the person's time zone. The mailbox settings say it,
// but reading them needs MailboxSettings.Read, which graphgate does not ask
// for; so the zone the person's own events were created in is the next
// best source, and UTC the last.
func (s *Server) zoneOfMailbox(ctx context.Context, g *graphapi.Client, userID int64) mailboxZone {
	s.zones.mu.Lock()
	if z, ok := s.zones.m[userID]; ok && s.d.Now().Sub(z.at) < zoneTTL {
		s.zones.mu.Unlock()
		return z
	}
	s.zones.mu.Unlock()
	z := mailboxZone{name: "UTC", source: "default", at: s.d.Now()}
	var settings struct{ TimeZone string }
	if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me/mailboxSettings", Safe: true}, &settings); err == nil {
		if iana := timezone.IANA(settings.TimeZone); iana != "" {
			z.name, z.source = iana, "mailbox settings"
		} else if settings.TimeZone != "" {
			z.unknown = settings.TimeZone
		}
	}
	if z.source == "default" {
		var evs struct {
			Value []struct {
				OriginalStartTimeZone string `json:"originalStartTimeZone"`
				IsOrganizer           bool   `json:"isOrganizer"`
			} `json:"value"`
		}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: "me/events", Safe: true, Own: true, Query: url.Values{
			"$top": {"50"}, "$select": {"originalStartTimeZone,isOrganizer"}, "$orderby": {"createdDateTime desc"}}}, &evs); err == nil {
			counts := map[string]int{}
			best := ""
			for _, e := range evs.Value {
				iana := timezone.IANA(e.OriginalStartTimeZone)
				if e.IsOrganizer && iana == "" && e.OriginalStartTimeZone != "" && z.unknown == "" {
					z.unknown = e.OriginalStartTimeZone
				}
				if !e.IsOrganizer || iana == "" {
					continue
				}
				counts[iana]++
				if counts[iana] > counts[best] {
					best = iana
				}
			}
			if best != "" {
				z.name, z.source = best, "calendar"
			}
		}
	}
	s.zones.mu.Lock()
	if s.zones.m == nil {
		s.zones.m = map[int64]mailboxZone{}
	}
	s.zones.m[userID] = z
	s.zones.mu.Unlock()
	return z
}

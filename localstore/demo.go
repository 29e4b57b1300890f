package localstore

import (
	"context"
	"fmt"

	"github.com/ebill/ebill/bill"
)

// Demo stock made by `ebill init --demo`, so that a station works with no
// server: Fujian (35), medical (06), outpatient (01) or inpatient (02), and
// the year; registration and exam bills use the outpatient code, as most
// hospitals do.
const (
	DemoSegmentSize = 100000
	DemoPaperCode   = "35062601"
	DemoPaperSize   = 1000
)

// DemoBillCodes returns the demo bill code of each kind for a year.
func DemoBillCodes(year int) map[bill.Kind]string {
	out := fmt.Sprintf("350601%02d", year%100)
	in := fmt.Sprintf("350602%02d", year%100)
	return map[bill.Kind]string{bill.Outpatient: out, bill.Registration: out, bill.Exam: out, bill.Inpatient: in}
}

// SetupDemo configures the bill codes of every kind and adds a local
// segment per code and a paper range, marked as demo stock.
func (s *Store) SetupDemo(ctx context.Context, year int) error {
	codes := DemoBillCodes(year)
	added := map[string]bool{}
	for _, k := range bill.Kinds {
		code := codes[k]
		if err := s.SetBillKind(ctx, k, code); err != nil {
			return err
		}
		if added[code] {
			continue
		}
		added[code] = true
		if _, err := s.AddSegment(ctx, bill.Segment{Code: code, Start: 1, End: DemoSegmentSize}, SourceDemo); err != nil {
			return err
		}
	}
	_, err := s.IntakePaper(ctx, bill.Segment{Code: DemoPaperCode, Start: 1, End: DemoPaperSize})
	return err
}

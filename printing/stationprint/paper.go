package stationprint

import (
	"context"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
)

// PrintFunc prints a bill on the paper in the printer and names the job.
type PrintFunc func(ctx context.Context) (job string, err error)

// ConvertToPaper converts an e-bill to the paper in the printer: check,
// print, then record. A failed check or print records nothing (the paper
// stays blank in the printer), and no write waits on the printer. A print
// that cannot be recorded is an error that tells the cashier what to do
// with the printed sheet.
func ConvertToPaper(ctx context.Context, s *localstore.Store, billCode string, billNo int64, paperCode string, paperNo int64,
	operator string, print PrintFunc) (*localstore.PaperUse, string, error) {
	if err := s.CheckConvert(ctx, billCode, billNo, paperCode, paperNo); err != nil {
		return nil, "", err
	}
	job, err := print(ctx)
	if err != nil {
		return nil, "", err
	}
	use, err := s.ConvertToPaper(ctx, billCode, billNo, paperCode, paperNo, operator)
	if err != nil {
		return nil, job, PrintedNotRecorded(paperCode, paperNo, err)
	}
	return use, job, nil
}

// Reprint voids a bill's paper copy and prints it on the paper in the
// printer, in the same order as ConvertToPaper.
func Reprint(ctx context.Context, s *localstore.Store, billCode string, billNo int64, paperNo int64, reason, operator string,
	print PrintFunc) (*localstore.PaperUse, string, error) {
	if err := s.CheckReprint(ctx, billCode, billNo, paperNo, reason); err != nil {
		return nil, "", err
	}
	b, err := s.Bill(ctx, billCode, billNo)
	if err != nil {
		return nil, "", err
	}
	job, err := print(ctx)
	if err != nil {
		return nil, "", err
	}
	use, err := s.Reprint(ctx, billCode, billNo, paperNo, reason, operator)
	if err != nil {
		return nil, job, PrintedNotRecorded(b.PaperCode, paperNo, err)
	}
	return use, job, nil
}

// PrintedNotRecorded is the error of a sheet printed whose use could not
// be recorded: the sheet must be taken back and its number voided blank.
func PrintedNotRecorded(paperCode string, paperNo int64, err error) error {
	return bill.Errorf(bill.ErrorCode(err), "纸质票据 %s %s 已打印，但登记失败：%s。请收回这张纸，将该号码空白作废（ebill paper blank-void，或“纸质票据”页的“空白作废”）后重新换开。",
		paperCode, bill.FormatBillNo(paperNo), bill.ErrorMessage(err))
}

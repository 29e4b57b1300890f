package server

import (
	"context"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
)

// The files a ledger bill is handed out as: the PDF a patient prints and
// the OFD (GB/T 33190) archives and reimbursement offices ask for.
const (
	FilePDF = "pdf"
	FileOFD = "ofd"
)

// ParseFileType reads a requested file type leniently ("OFD", ".ofd",
// "pdf", empty for PDF).
func ParseFileType(s string) (string, error) {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), ".") {
	case "", FilePDF:
		return FilePDF, nil
	case FileOFD:
		return FileOFD, nil
	}
	return "", bill.Errorf(bill.EInvalid, "文件类型只能是 PDF 或 OFD。")
}

// BillFileName is the file's name: 票据代码-票据号码.pdf or .ofd.
func BillFileName(lb *LedgerBill, fileType string) string {
	return lb.BillCode + "-" + lb.BillNo + "." + fileType
}

// BillFileContentType is the file's media type.
func BillFileContentType(fileType string) string {
	if fileType == FileOFD {
		return "application/ofd"
	}
	return "application/pdf"
}

// BillFaceInfo is what the face of a ledger bill (LedgerBill with its
// Bill) shows as the patient receives it: the unit's seal, 已冲红 once a red
// bill reversed it, the pay channels' names, the signature, and — when
// publicURL is set — the QR code of its verification page.
func (s *Store) BillFaceInfo(ctx context.Context, lb *LedgerBill, publicURL string) (printing.BillInfo, error) {
	if lb.Bill == nil {
		return printing.BillInfo{}, bill.Errorf(bill.ENotFound, "票据 %s %s 的内容不在服务器上。", lb.BillCode, lb.BillNo)
	}
	sig, err := s.BillSignature(ctx, lb.ID)
	if err != nil {
		return printing.BillInfo{}, err
	}
	info := printing.BillInfo{Bill: lb.Bill, CheckCode: lb.CheckCode, Signature: sig}
	if info.Seal, err = s.UnitSeal(ctx); err != nil {
		return info, err
	}
	if info.Reversed, err = s.IsReversed(ctx, lb.ID); err != nil {
		return info, err
	}
	if info.PayChannelNames, err = s.PayChannelNames(ctx); err != nil {
		return info, err
	}
	if publicURL != "" {
		info.VerifyURL = bill.NewVerifyRef(lb.Bill, lb.CheckCode, sig).URL(publicURL)
	}
	return info, nil
}

// BillFile renders a ledger bill as the file the patient receives (the
// face of BillFaceInfo and the detail list): fileType is FilePDF or
// FileOFD; the OFD carries the signed bill, masked, as its attachment.
func (s *Store) BillFile(ctx context.Context, lb *LedgerBill, publicURL, fileType string) ([]byte, error) {
	info, err := s.BillFaceInfo(ctx, lb, publicURL)
	if err != nil {
		return nil, err
	}
	font, err := printing.DefaultFont()
	if err != nil {
		return nil, err
	}
	if fileType == FileOFD {
		return printing.BillOFD(info, font)
	}
	return printing.PDF(printing.Face(info, font), font, printing.PDFOptions{Created: lb.IssuedAt})
}

// Package stationprint is what the station's two front ends (the ebill
// command and the ebill-desk screens) print with: a stored bill's print
// information and its paper layout, read from the station's settings. It
// sits beside printing rather than in it so that printing keeps depending
// on bill and assets only.
package stationprint

import (
	"context"

	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/printing"
)

// BillInfo gathers what a bill's print shows besides its content: the
// check code, the QR link (under the station's verification address) and
// the pay channel names of the master data. A bill from a list (without its
// content) is loaded in full first.
func BillInfo(ctx context.Context, s *localstore.Store, b *localstore.StoredBill) (printing.BillInfo, error) {
	if b.Bill == nil || b.Signature == nil {
		full, err := s.Bill(ctx, b.BillCode, b.BillNo)
		if err != nil {
			return printing.BillInfo{}, err
		}
		b = full
	}
	info := printing.BillInfo{Bill: b.Bill, CheckCode: b.CheckCode, PayChannelNames: map[string]string{}, Reversed: b.RedBy != "",
		Signature: b.Signature}
	base, err := s.VerifyBaseURL(ctx)
	if err != nil {
		return info, err
	}
	if base != "" {
		info.VerifyURL = b.VerifyRef().URL(base)
	}
	if info.Seal, err = s.UnitSeal(ctx); err != nil {
		return info, err
	}
	channels, err := s.PayChannels(ctx)
	if err != nil {
		return info, err
	}
	for _, c := range channels {
		info.PayChannelNames[c.Code] = c.Name
	}
	return info, nil
}

// Offset is a printer's calibration offset stored at the station.
func Offset(ctx context.Context, s *localstore.Store, printer string) (printing.Offset, error) {
	off, err := s.PrinterOffset(ctx, printer)
	return printing.Offset{X: off.X, Y: off.Y}, err
}

// PaperLayout lays a bill out on pre-printed paper for printer p: the
// template given (a shipped name or a .json file), else the one set for the
// paper code (the bill's own paper code when paperCode is empty), else the
// one shipped for the bill's kind; moved by the printer's calibration.
func PaperLayout(ctx context.Context, s *localstore.Store, b *localstore.StoredBill, paperCode, template string,
	p printing.Printer, f *printing.Font) (*printing.Document, error) {
	info, err := BillInfo(ctx, s, b)
	if err != nil {
		return nil, err
	}
	if paperCode == "" {
		paperCode = b.PaperCode
	}
	if template == "" && paperCode != "" {
		if template, err = s.PaperTemplate(ctx, paperCode); err != nil {
			return nil, err
		}
	}
	var tpl *printing.Template
	if template != "" {
		tpl, err = printing.LoadTemplate(template)
	} else {
		tpl, err = printing.ForKind(info.Bill.Kind)
	}
	if err != nil {
		return nil, err
	}
	off, err := Offset(ctx, s, p.Name())
	if err != nil {
		return nil, err
	}
	return tpl.Layout(info, f, off), nil
}

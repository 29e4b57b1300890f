package api

import (
	"net/http"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
)

type mobileRequest struct {
	CardNo string `json:"cardNo"`
	Name   string `json:"name"`
	Code   string `json:"code,omitempty"`
}

func (a *API) mobileCode(w http.ResponseWriter, r *http.Request) {
	var req mobileRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		a.fail(w, err)
		return
	}
	if a.sender == nil {
		a.fail(w, bill.Errorf(bill.EUnavailable, "本院尚未开通短信验证码。"))
		return
	}
	if err := a.store.SendMobileCode(r.Context(), a.sender, strings.TrimSpace(req.CardNo), strings.TrimSpace(req.Name)); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": true, "message": "如信息正确，验证码已发送到您最近一次就诊登记的手机。"})
}

func (a *API) mobileSessionOpen(w http.ResponseWriter, r *http.Request) {
	var req mobileRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		a.fail(w, err)
		return
	}
	token, err := a.store.OpenMobileSession(r.Context(), strings.TrimSpace(req.CardNo), strings.TrimSpace(req.Name), strings.TrimSpace(req.Code))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expiresIn": int(server.MobileSessionTTL.Seconds())})
}

func bearer(r *http.Request) string {
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}

func (a *API) mobileBills(w http.ResponseWriter, r *http.Request) {
	bills, err := a.store.MobileBills(r.Context(), bearer(r))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"bills": bills})
}

// mobilePDF serves the PDF of one of the patient's bills:
// GET /api/mobile/v1/bills/{code}/{no} with the session token.
func (a *API) mobilePDF(w http.ResponseWriter, r *http.Request) {
	no, err := bill.ParseBillNo(strings.TrimSuffix(r.PathValue("no"), ".pdf"))
	if err != nil {
		a.fail(w, err)
		return
	}
	lb, sig, err := a.store.MobileBill(r.Context(), bearer(r), r.PathValue("code"), no)
	if err != nil {
		a.fail(w, err)
		return
	}
	font, err := printing.DefaultFont()
	if err != nil {
		a.fail(w, err)
		return
	}
	info := printing.BillInfo{Bill: lb.Bill, CheckCode: lb.CheckCode}
	if info.Seal, err = a.store.UnitSeal(r.Context()); err != nil {
		a.fail(w, err)
		return
	}
	if info.Reversed, err = a.store.IsReversed(r.Context(), lb.ID); err != nil {
		a.fail(w, err)
		return
	}
	if a.publicURL != "" {
		info.VerifyURL = bill.NewVerifyRef(lb.Bill, lb.CheckCode, sig).URL(a.publicURL)
	}
	pdf, err := printing.PDF(printing.Face(info, font), font, printing.PDFOptions{Created: lb.IssuedAt})
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+lb.BillCode+"-"+lb.BillNo+`.pdf"`)
	w.Write(pdf)
}

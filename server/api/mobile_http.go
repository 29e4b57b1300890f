package api

import (
	"net/http"
	"path"
	"strings"

	"github.com/ebill/ebill/bill"
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

// mobileFile serves one of the patient's bills with the session token:
// GET /api/mobile/v1/bills/{code}/{no} is the PDF; {no}.ofd, or ?type=ofd,
// the OFD (GB/T 33190) that archives and reimbursement offices take.
func (a *API) mobileFile(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("no")
	fileType := r.URL.Query().Get("type")
	if ext := path.Ext(raw); ext == ".pdf" || ext == ".ofd" {
		raw, fileType = strings.TrimSuffix(raw, ext), ext
	}
	fileType, err := server.ParseFileType(fileType)
	if err != nil {
		a.fail(w, err)
		return
	}
	no, err := bill.ParseBillNo(raw)
	if err != nil {
		a.fail(w, err)
		return
	}
	lb, err := a.store.MobileBill(r.Context(), bearer(r), r.PathValue("code"), no)
	if err != nil {
		a.fail(w, err)
		return
	}
	data, err := a.store.BillFile(r.Context(), lb, a.publicURL, fileType)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", server.BillFileContentType(fileType))
	w.Header().Set("Content-Disposition", `attachment; filename="`+server.BillFileName(lb, fileType)+`"`)
	w.Write(data)
}

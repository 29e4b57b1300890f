package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 基础信息·领用证: the certificates, their form and each one's 领/销 ledger.

type certsView struct {
	List    []server.Certificate
	Edit    *server.Certificate
	CanEdit bool
}

func (c *Console) certsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	cv := &certsView{}
	if id := r.URL.Query().Get("edit"); id != "" {
		cert, err := c.store.Certificate(ctx, id)
		if err != nil {
			c.fail(w, sess, err)
			return
		}
		cv.Edit = cert
	}
	if r.URL.Query().Get("new") != "" {
		cv.Edit = &server.Certificate{Enabled: true}
	}
	c.renderCerts(w, ctx, sess, http.StatusOK, "", "", cv)
}

func (c *Console) renderCerts(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string, cv *certsView) {
	cv.CanEdit = sess.User.Can(server.PermStockReceive)
	var err error
	if cv.List, err = c.store.Certificates(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	v := c.view(sess, "领用证", "/admin/certificates", cv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "certificates", v)
}

func (c *Console) saveCert(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	cert := server.Certificate{ID: f("id"), No: f("no"), Name: f("name"), Unit: f("unit"), IssuedOn: f("issuedOn"), ValidTo: f("validTo"),
		InspectedOn: f("inspectedOn"), LegalNo: f("legalNo"), LicenseNo: f("licenseNo"), Address: f("address"), Contact: f("contact"),
		Phone: f("phone"), FinanceHead: f("financeHead"), Handler: f("handler"), Note: f("note"), Enabled: r.PostFormValue("enabled") != "",
		Codes: strings.FieldsFunc(f("codes"), func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ' ' })}
	saved, err := c.store.SaveCertificate(ctx, cert)
	if err != nil {
		c.renderCerts(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), &certsView{Edit: &cert})
		return
	}
	c.renderCerts(w, ctx, sess, http.StatusOK, "已保存领用证 "+saved.No+"。入库时须注明所依据的领用证。", "", &certsView{})
}

type ledgerView struct {
	Cert   *server.Certificate
	Ledger *server.CertLedger
}

func (c *Console) certLedger(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	cert, l, err := c.store.CertificateLedger(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	c.render(w, http.StatusOK, "cert-ledger", c.view(sess, "领用证 "+cert.No, "/admin/certificates", &ledgerView{Cert: cert, Ledger: l}))
}

package api

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

var verifyPage = template.Must(template.New("verify").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>医疗电子票据查验</title>
<style>
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#222}
header{background:#c62828;color:#fff;padding:16px;font-size:18px}
main{padding:16px}.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
.state{font-size:22px;font-weight:bold;margin-bottom:12px}.ok{color:#1b7f3b}.bad{color:#c62828}
dl{display:grid;grid-template-columns:6em 1fr;gap:8px;margin:0}dt{color:#666}dd{margin:0}
form input{width:100%;box-sizing:border-box;padding:10px;margin:6px 0;font-size:16px}
button{width:100%;padding:12px;font-size:16px;background:#c62828;color:#fff;border:0;border-radius:6px}
.files{display:flex;gap:12px;margin:16px 0 0}.files a{flex:1;text-align:center;padding:12px;border:1px solid #c62828;border-radius:6px;color:#c62828;text-decoration:none}
</style></head><body><header>医疗电子票据查验</header><main>
{{if .Found}}<div class="card"><div class="state {{if .Valid}}ok{{else}}bad{{end}}" id="state">{{.State}}</div>
<dl><dt>票据代码</dt><dd id="billCode">{{.BillCode}}</dd><dt>票据号码</dt><dd id="billNo">{{.BillNo}}</dd>
<dt>校验码</dt><dd>{{.CheckCode}}</dd><dt>票据种类</dt><dd>{{.Kind}}</dd><dt>交款人</dt><dd>{{.Payer}}</dd>
<dt>金额</dt><dd>¥{{.Total}}</dd><dt>开票时间</dt><dd>{{.IssuedAt}}</dd><dt>开票单位</dt><dd>{{.Unit}}</dd>
{{if .Paper}}<dt>纸质票据</dt><dd id="paper">{{.Paper}}</dd>{{end}}</dl>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Files}}<p class="files"><a id="pdf" href="{{.PDF}}">下载 PDF</a><a id="ofd" href="{{.OFD}}">下载 OFD（版式文件）</a></p>{{end}}</div>
{{else}}<div class="card"><div class="state bad" id="state">查无此票</div><p>{{.Message}}</p>
<form method="get" action="/v"><input name="c" placeholder="票据代码（8位）"><input name="n" placeholder="票据号码（10位）">
<input name="k" placeholder="校验码（6位）"><button type="submit">查验</button></form></div>{{end}}
</main></body></html>`))

// verifyHTML serves the verification page.
func (a *API) verifyHTML(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res := &server.VerifyResult{Message: "请输入票据代码、号码和校验码。"}
	if q.Get("c") != "" || q.Get("n") != "" {
		var err error
		if res, err = a.store.VerifyBill(r.Context(), bill.ParseVerifyQuery(q)); err != nil {
			a.log.Error("verify", "err", err)
			http.Error(w, "系统繁忙，请稍后再试。", http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	page := struct {
		*server.VerifyResult
		PDF, OFD string
	}{VerifyResult: res}
	if res.Files {
		q := url.Values{}
		for _, k := range []string{"c", "n", "k", "d", "a", "s"} {
			q.Set(k, r.URL.Query().Get(k))
		}
		page.PDF = bill.VerifyPath + "/file?" + q.Encode() + "&t=pdf"
		page.OFD = bill.VerifyPath + "/file?" + q.Encode() + "&t=ofd"
	}
	verifyPage.Execute(w, page)
}

// verifyFile serves the PDF (t=pdf) or OFD (t=ofd) of the bill a QR link
// names, to whoever holds the link — that is, the bill (Store.VerifiedBill).
func (a *API) verifyFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fileType, err := server.ParseFileType(q.Get("t"))
	if err != nil {
		http.Error(w, bill.ErrorMessage(err), http.StatusBadRequest)
		return
	}
	lb, err := a.store.VerifiedBill(r.Context(), bill.ParseVerifyQuery(q))
	var data []byte
	if err == nil {
		data, err = a.store.BillFile(r.Context(), lb, a.publicURL, fileType)
	}
	switch {
	case bill.ErrorCode(err) == bill.ENotFound:
		http.Error(w, bill.ErrorMessage(err), http.StatusNotFound)
		return
	case err != nil:
		a.log.Error("verify file", "err", err)
		http.Error(w, "系统繁忙，请稍后再试。", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", server.BillFileContentType(fileType))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="`+server.BillFileName(lb, fileType)+`"`)
	w.Write(data)
}

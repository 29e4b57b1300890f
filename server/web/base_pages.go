package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"html/template"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 基础信息: 单位信息 with the seal the bill face prints, bill kinds and
// their codes, 收费项目 and 支付方式.

// MaxImport bounds an uploaded charge-item file.
const MaxImport = 8 << 20

// canSeeBase: the bill administrators keep the base data; report readers
// read it.
func canSeeBase(u *server.User) bool {
	return u.Can(server.PermUnitManage) || u.Can(server.PermReportView)
}

// unitView is 单位信息.
type unitView struct {
	Unit    server.Unit
	Seal    template.URL // data: URL of the seal image
	Kinds   []kindRow
	CanEdit bool
}

type kindRow struct {
	Kind bill.Kind
	Code string
}

func (c *Console) unitPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderUnit(w, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderUnit(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	if !canSeeBase(&sess.User) {
		c.fail(w, sess, c.store.Authorize(ctx, server.PermUnitManage))
		return
	}
	uv := &unitView{CanEdit: sess.User.Can(server.PermUnitManage)}
	var err error
	if uv.Unit, err = c.store.Unit(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	seal, err := c.store.UnitSeal(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	if len(seal) > 0 {
		uv.Seal = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(seal))
	}
	kinds, err := c.store.BillKinds(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, k := range bill.AllKinds {
		uv.Kinds = append(uv.Kinds, kindRow{Kind: k, Code: kinds[k]})
	}
	v := c.view(sess, "单位信息与票据种类", "/admin/unit", uv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "unit", v)
}

func (c *Console) setUnit(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	if err := r.ParseMultipartForm(MaxBody); err != nil {
		c.renderUnit(w, ctx, sess, http.StatusBadRequest, "", "上传的文件过大或不完整；票据专用章图片请小于 256 KB。")
		return
	}
	u := server.Unit{Name: strings.TrimSpace(r.FormValue("name")), CreditCode: strings.TrimSpace(r.FormValue("creditCode")),
		ClearSeal: r.FormValue("clearSeal") != ""}
	if f, _, err := r.FormFile("seal"); err == nil {
		u.Seal, err = io.ReadAll(io.LimitReader(f, server.MaxSealBytes+1))
		f.Close()
		if err != nil {
			c.renderUnit(w, ctx, sess, http.StatusBadRequest, "", "读取票据专用章图片失败，请重新选择文件。")
			return
		}
		if len(u.Seal) == 0 {
			u.Seal = nil
		}
	}
	if err := c.store.SetUnit(ctx, u); err != nil {
		c.renderUnit(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderUnit(w, ctx, sess, http.StatusOK, "已保存单位信息；收费电脑下次同步后，新开的票据按此打印。", "")
}

func (c *Console) setKind(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	kind, err := bill.ParseAnyKind(r.PostFormValue("kind"))
	if err == nil {
		err = c.store.SetBillKind(ctx, kind, strings.TrimSpace(r.PostFormValue("code")))
	}
	if err != nil {
		c.renderUnit(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderUnit(w, ctx, sess, http.StatusOK, "已设置"+kind.Name()+"使用票据代码 "+r.PostFormValue("code")+"。", "")
}

// itemsView is 收费项目.
type itemsView struct {
	Q       string
	Items   []server.ChargeItemInfo
	Edit    *server.ChargeItemInfo
	CanEdit bool
}

func (c *Console) itemsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	iv := &itemsView{Q: r.URL.Query().Get("q")}
	if code := r.URL.Query().Get("edit"); code != "" {
		list, err := c.store.ChargeItems(ctx, code, 50)
		if err != nil {
			c.fail(w, sess, err)
			return
		}
		for i := range list {
			if list[i].Code == code {
				iv.Edit = &list[i]
			}
		}
	}
	if r.URL.Query().Get("new") != "" {
		iv.Edit = &server.ChargeItemInfo{}
	}
	c.renderItems(w, ctx, sess, http.StatusOK, "", "", iv)
}

func (c *Console) renderItems(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string, iv *itemsView) {
	if !canSeeBase(&sess.User) {
		c.fail(w, sess, c.store.Authorize(ctx, server.PermUnitManage))
		return
	}
	iv.CanEdit = sess.User.Can(server.PermUnitManage)
	var err error
	if iv.Items, err = c.store.ChargeItems(ctx, iv.Q, 200); err != nil {
		c.fail(w, sess, err)
		return
	}
	v := c.view(sess, "收费项目", "/admin/items", iv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "items", v)
}

func (c *Console) setItem(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	it := server.ChargeItemInfo{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), CategoryCode: r.PostFormValue("category"),
		Unit: strings.TrimSpace(r.PostFormValue("unit")), Spec: strings.TrimSpace(r.PostFormValue("spec")),
		MedicalClass: strings.TrimSpace(r.PostFormValue("class")), Disabled: r.PostFormValue("disabled") != ""}
	price, err := bill.ParseMoney4(strings.TrimSpace(r.PostFormValue("price")))
	if err != nil {
		err = bill.Errorf(bill.EInvalid, "单价“%s”应为金额，最多 4 位小数，如 0.4583。", server.Truncate(r.PostFormValue("price"), 20))
	} else {
		it.Price = price
		err = c.store.SetChargeItem(ctx, it)
	}
	if err != nil {
		c.renderItems(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), &itemsView{Edit: &it})
		return
	}
	c.renderItems(w, ctx, sess, http.StatusOK, "已保存收费项目 "+it.Code+" "+it.Name+"；收费电脑下次同步后生效。", "", &itemsView{Q: it.Code})
}

// importItems reads an uploaded CSV or Excel (.xlsx) file of charge items.
func (c *Console) importItems(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	fail := func(status int, msg string) { c.renderItems(w, ctx, sess, status, "", msg, &itemsView{}) }
	if err := r.ParseMultipartForm(MaxImport); err != nil {
		fail(http.StatusBadRequest, "上传的文件过大（上限 8 MB）或不完整，请重新选择文件。")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusBadRequest, "请选择要导入的收费项目文件（CSV 或 Excel）。")
		return
	}
	defer f.Close()
	var rows [][]string
	switch strings.ToLower(filepath.Ext(hdr.Filename)) {
	case ".xlsx":
		// An uploaded workbook is a zip: bound what it may unpack to (a
		// catalogue of 100,000 items unpacks to a few tens of MB).
		x, err := excelize.OpenReader(f, excelize.Options{UnzipSizeLimit: 256 << 20, UnzipXMLSizeLimit: 64 << 20})
		if err != nil {
			fail(http.StatusBadRequest, "无法读取这个 Excel 文件；请另存为 .xlsx 或 CSV 后再导入。")
			return
		}
		defer x.Close()
		rows, err = x.GetRows(x.GetSheetName(0))
		if err != nil {
			fail(http.StatusBadRequest, "无法读取 Excel 的第一个工作表。")
			return
		}
	case ".csv", ".txt":
		rows, err = csv.NewReader(f).ReadAll()
		if err != nil {
			fail(http.StatusBadRequest, "收费项目文件不是合法的 CSV："+server.Truncate(err.Error(), 100))
			return
		}
	default:
		fail(http.StatusBadRequest, "只能导入 CSV 或 Excel（.xlsx）文件。")
		return
	}
	n, err := c.store.ImportChargeItemRows(ctx, rows)
	if err != nil {
		fail(statusOf(err), bill.ErrorMessage(err))
		return
	}
	c.renderItems(w, ctx, sess, http.StatusOK, "已导入 "+strconv.Itoa(n)+" 个收费项目；收费电脑下次同步后生效。", "", &itemsView{})
}

// channelsView is 支付方式.
type channelsView struct {
	Channels []server.PayChannelInfo
	Defaults map[string][]string // channel → the points it is the default of
	CanEdit  bool
}

func (c *Console) channelsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderChannels(w, ctx, sess, http.StatusOK, "", "")
}

func (c *Console) renderChannels(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string) {
	if !canSeeBase(&sess.User) {
		c.fail(w, sess, c.store.Authorize(ctx, server.PermUnitManage))
		return
	}
	cv := &channelsView{CanEdit: sess.User.Can(server.PermUnitManage), Defaults: map[string][]string{}}
	var err error
	if cv.Channels, err = c.store.PayChannels(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	points, err := c.store.Points(ctx)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	for _, p := range points {
		ch := p.Settings.DefaultPayChannel
		if ch == "" {
			ch = "02"
		}
		cv.Defaults[ch] = append(cv.Defaults[ch], p.Code)
	}
	v := c.view(sess, "支付方式", "/admin/paychannels", cv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "paychannels", v)
}

func (c *Console) setChannel(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	code, name := strings.TrimSpace(r.PostFormValue("code")), strings.TrimSpace(r.PostFormValue("name"))
	disabled := r.PostFormValue("disabled") != ""
	if disabled && code == "02" {
		c.renderChannels(w, ctx, sess, http.StatusBadRequest, "", "现金（02）是开票点未设默认支付方式时的默认值，不能停用。")
		return
	}
	if disabled {
		points, err := c.store.Points(ctx)
		if err != nil {
			c.fail(w, sess, err)
			return
		}
		for _, p := range points {
			if p.Settings.DefaultPayChannel == code {
				c.renderChannels(w, ctx, sess, http.StatusConflict, "", "支付方式 "+code+" 是开票点 "+p.Code+" 的默认支付方式；请先在开票点设置中改用其他方式，再停用。")
				return
			}
		}
	}
	if err := c.store.SetPayChannel(ctx, code, name, disabled); err != nil {
		c.renderChannels(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err))
		return
	}
	c.renderChannels(w, ctx, sess, http.StatusOK, "已保存支付方式 "+code+" "+name+"。", "")
}

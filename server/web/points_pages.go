package web

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/printing"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// 基础信息·开票点: billing points, their settings and offline limits, the
// stations' enrolment codes (text and QR code) and revocation, and 站点状态
// from what the stations report.

// SilentAfter is how long a station may go without syncing before the
// console marks it 离线.
const SilentAfter = 2 * time.Hour

// pointsView is the billing points page.
type pointsView struct {
	Points    []*server.Point
	Reports   map[string]server.StationReport
	Channels  []server.PayChannelInfo
	CanManage bool
	Now       time.Time
	// SilentAfter is when a station counts as offline.
	SilentAfter time.Duration
	Enroll      *stationCode // a code just issued
	Edit        *server.Point
}

type stationCode struct { // an enrolment code just issued
	Point, Code, Server, Fingerprint, Command string
	Expires                                   time.Time
	QR                                        template.URL // data: URL of the PNG we made
}

// SetFingerprint tells the console the TLS certificate's fingerprint that
// stations pin at enrolment, shown beside each enrolment code.
func (c *Console) SetFingerprint(fp string) { c.fingerprint = fp }

func (c *Console) pointsPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	if !sess.User.Can(server.PermReportView) && !sess.User.Can(server.PermPointManage) {
		c.fail(w, sess, c.store.Authorize(ctx, server.PermPointManage))
		return
	}
	pv := &pointsView{}
	if code := r.URL.Query().Get("edit"); code != "" && sess.User.Can(server.PermPointManage) {
		p, err := c.store.Point(ctx, code)
		if err != nil {
			c.fail(w, sess, err)
			return
		}
		pv.Edit = p
	}
	c.renderPoints(w, ctx, sess, http.StatusOK, "", "", pv)
}

func (c *Console) renderPoints(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string, pv *pointsView) {
	if pv == nil {
		pv = &pointsView{}
	}
	pv.CanManage, pv.Now, pv.SilentAfter = sess.User.Can(server.PermPointManage), c.store.Now(), SilentAfter
	var err error
	if pv.Points, err = c.store.Points(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	if pv.Reports, err = c.store.StationReports(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	if pv.Channels, err = c.store.PayChannels(ctx); err != nil {
		c.fail(w, sess, err)
		return
	}
	v := c.view(sess, "开票点", "/admin/points", pv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "points", v)
}

func (c *Console) addPoint(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	code, name := strings.TrimSpace(r.PostFormValue("code")), strings.TrimSpace(r.PostFormValue("name"))
	if err := c.store.AddPoint(ctx, code, name, r.PostFormValue("kind")); err != nil {
		c.renderPoints(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), nil)
		return
	}
	c.renderPoints(w, ctx, sess, http.StatusOK, "已新增开票点 "+code+" "+name+"。收费电脑开票点请生成注册码，在收费电脑上注册。", "", nil)
}

// editPoint saves a point's name, desk settings and offline limits.
func (c *Console) editPoint(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	code := r.PathValue("code")
	p, err := c.store.Point(ctx, code)
	if err != nil {
		c.fail(w, sess, err)
		return
	}
	st, err := settingsForm(r, p.Settings)
	if err == nil && st.DefaultPayChannel != "" {
		err = c.store.CheckPayChannel(ctx, st.DefaultPayChannel)
	}
	if err == nil {
		err = c.store.EditPoint(ctx, code, strings.TrimSpace(r.PostFormValue("name")), st)
	}
	if err != nil {
		p.Name = r.PostFormValue("name")
		c.renderPoints(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), &pointsView{Edit: p})
		return
	}
	c.renderPoints(w, ctx, sess, http.StatusOK, "已保存开票点 "+code+" 的设置；收费电脑下次同步时生效。", "", nil)
}

// settingsForm reads the settings form over the point's current settings.
func settingsForm(r *http.Request, st wire.Settings) (wire.Settings, error) {
	num := func(name, label string, dst *int64) error {
		s := strings.TrimSpace(r.PostFormValue(name))
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bill.Errorf(bill.EInvalid, "%s“%s”应为整数。", label, server.Truncate(s, 20))
		}
		*dst = n
		return nil
	}
	yuan := func(name, label string, dst *bill.Money) error {
		s := strings.TrimSpace(r.PostFormValue(name))
		if s == "" {
			return nil
		}
		m, err := bill.ParseMoney(s)
		if err != nil {
			return bill.Errorf(bill.EInvalid, "%s“%s”应为金额，如 50000.00。", label, server.Truncate(s, 20))
		}
		*dst = m
		return nil
	}
	hours, count := int64(st.Limits.MaxHours), int64(st.Limits.MaxCount)
	for _, err := range []error{
		num("maxHours", "离线时长", &hours),
		num("maxCount", "离线张数", &count),
		yuan("maxAmount", "离线累计金额", &st.Limits.MaxAmount),
		yuan("maxSingle", "离线单张金额", &st.Limits.MaxSingle),
		num("segmentSize", "号段大小", &st.SegmentSize),
		num("refillThreshold", "补号阈值", &st.RefillThreshold),
		num("stockAlert", "余量预警", &st.StockAlert),
		num("maxHeld", "持有号码上限", &st.MaxHeld),
	} {
		if err != nil {
			return st, err
		}
	}
	if hours < 0 || hours > 24*365 || count < 0 || count > 10_000_000 {
		return st, bill.Errorf(bill.EInvalid, "离线时长应为 0 至 8760 小时，离线张数 0 至 1000 万张。")
	}
	st.Limits.MaxHours, st.Limits.MaxCount = int(hours), int(count)
	st.Checker = strings.TrimSpace(r.PostFormValue("checker"))
	st.DefaultPayChannel = strings.TrimSpace(r.PostFormValue("payChannel"))
	return st, nil
}

func (c *Console) pointAction(action string) func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	return func(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
		code := r.PathValue("code")
		var err error
		var msg string
		pv := &pointsView{}
		switch action {
		case "disable":
			err, msg = c.store.SetPointDisabled(ctx, code, true), "已停用开票点 "+code+"：不再分配新号码和纸质票据；其已开具的票据仍会上传。"
		case "enable":
			err, msg = c.store.SetPointDisabled(ctx, code, false), "已启用开票点 "+code+"。"
		case "revoke":
			err, msg = c.store.Revoke(ctx, code), "已撤销开票点 "+code+" 的收费电脑；可生成新的注册码注册新电脑。"
		case "enroll":
			var ev stationCode
			ev.Code, ev.Expires, err = c.store.EnrollCode(ctx, code)
			if err == nil {
				ev.Point, ev.Server, ev.Fingerprint = code, "https://"+r.Host, c.fingerprint
				ev.Command = "ebill enroll --server " + ev.Server + " --code " + ev.Code
				if ev.Fingerprint != "" {
					ev.Command += " --fingerprint " + ev.Fingerprint
				}
				png, qerr := printing.QRPNG(ev.Command, 240)
				if qerr == nil {
					ev.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
				}
				pv.Enroll = &ev
				msg = "已生成开票点 " + code + " 的注册码，24 小时内有效，只能使用一次。"
			}
		}
		if err != nil {
			c.renderPoints(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), nil)
			return
		}
		c.renderPoints(w, ctx, sess, http.StatusOK, msg, "", pv)
	}
}

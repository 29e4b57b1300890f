package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// 消息中心: post a notice to everyone, a billing point or a role; the
// messages for me; what was sent, with the desks' read receipts.

type messagesView struct {
	Mine    []server.Message
	Sent    []server.Message
	Points  []*server.Point
	Roles   []stateOption
	CanPost bool
	Form    server.Message
}

func (c *Console) messagesPage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	c.renderMessages(w, ctx, sess, http.StatusOK, "", "", server.Message{})
}

func (c *Console) renderMessages(w http.ResponseWriter, ctx context.Context, sess *server.Session, status int, msg, errMsg string, form server.Message) {
	mv := &messagesView{CanPost: sess.User.Can(server.PermUnitManage), Form: form}
	var err error
	if mv.Mine, err = c.store.MyMessages(ctx, 50); err != nil {
		c.fail(w, sess, err)
		return
	}
	if sess.User.Can(server.PermReportView) {
		if mv.Sent, err = c.store.SentMessages(ctx, 100); err != nil {
			c.fail(w, sess, err)
			return
		}
	}
	if mv.CanPost {
		if mv.Points, err = c.store.Points(ctx); err != nil {
			c.fail(w, sess, err)
			return
		}
		for _, role := range server.RoleOrder {
			mv.Roles = append(mv.Roles, stateOption{role, server.RoleNames[role]})
		}
	}
	v := c.view(sess, "消息中心", "/admin/messages", mv)
	v.Message, v.Error = msg, errMsg
	c.render(w, status, "messages", v)
}

func (c *Console) postMessage(w http.ResponseWriter, r *http.Request, ctx context.Context, sess *server.Session) {
	m := server.Message{Title: r.PostFormValue("title"), Body: r.PostFormValue("body")}
	switch target := r.PostFormValue("target"); {
	case strings.HasPrefix(target, "point:"):
		m.Point = strings.TrimPrefix(target, "point:")
	case strings.HasPrefix(target, "role:"):
		m.Role = strings.TrimPrefix(target, "role:")
	}
	sent, err := c.store.SendMessage(ctx, m)
	if err != nil {
		c.renderMessages(w, ctx, sess, statusOf(err), "", bill.ErrorMessage(err), m)
		return
	}
	note := "已发布“" + sent.Title + "”给" + sent.Target() + "。"
	if sent.ToDesks() {
		note += "收费电脑下次同步时收到。"
	}
	c.renderMessages(w, ctx, sess, http.StatusOK, note, "", server.Message{})
}

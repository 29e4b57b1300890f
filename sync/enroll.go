package sync

import (
	"context"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/sync/wire"
)

// Enroll makes this PC the station of a billing point: it creates an SM2
// key pair, registers the public key with the server using the one-time
// code, and stores the point's identity, settings, bill kinds and first
// segments in the (new) station database, in one transaction.
func Enroll(ctx context.Context, store *localstore.Store, serverURL, fingerprint, code string) (*localstore.Station, error) {
	if _, err := store.Station(ctx); err == nil {
		return nil, bill.Errorf(bill.EConflict, "本机已是开票点，不能重复注册；如需更换开票点，请使用新的数据目录。")
	}
	key, err := bill.GenerateKey()
	if err != nil {
		return nil, err
	}
	c, err := NewClient(serverURL, fingerprint, key, "")
	if err != nil {
		return nil, err
	}
	resp, err := c.Enroll(ctx, code)
	if err != nil {
		return nil, err
	}
	st, err := store.Init(ctx, localstore.InitParams{
		PlaceCode: resp.PlaceCode, PlaceName: resp.PlaceName, UnitName: resp.UnitName, UnitCreditCode: resp.UnitCreditCode,
		ServerURL: serverURL, Fingerprint: fingerprint, Key: key, Enrollment: enrollment(resp)})
	if err != nil {
		return nil, bill.Errorf(bill.EInternal, "服务器已登记本机，但本机保存失败（%v）；注册码已用掉，请联系票据管理员撤销后重新生成注册码。", err)
	}
	return st, nil
}

func enrollment(resp *wire.EnrollResponse) *localstore.Enrollment {
	e := &localstore.Enrollment{Limits: resp.Settings.Limits, StockAlert: resp.Settings.StockAlert, Refill: resp.Settings.RefillThreshold,
		Desk:       localstore.DeskSettings{DefaultPayChannel: resp.Settings.DefaultPayChannel, Checker: resp.Settings.Checker},
		BillKinds:  map[bill.Kind]string{},
		MasterData: LocalMasterData(resp.MasterData)}
	for _, k := range resp.BillKinds {
		e.BillKinds[k.Kind] = k.BillCode
	}
	for _, s := range resp.Segments {
		e.Segments = append(e.Segments, bill.Segment{Code: s.BillCode, Start: s.Start, End: s.End})
	}
	return e
}

// ClientFor makes the client of an enrolled station.
func ClientFor(ctx context.Context, store *localstore.Store) (*Client, error) {
	st, err := store.Station(ctx)
	if err != nil {
		return nil, err
	}
	if st.ServerURL == "" {
		return nil, bill.Errorf(bill.EInvalid, "本机未注册到服务器（单机或演示模式），无法同步。")
	}
	key, err := store.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	return NewClient(st.ServerURL, st.Fingerprint, key, st.PlaceCode)
}

// LocalMasterData converts pulled master data for the station store.
func LocalMasterData(md wire.MasterData) localstore.MasterData {
	out := localstore.MasterData{Version: md.Version, UnitSeal: md.UnitSeal, SealCleared: md.UnitSealCleared, PaperSent: md.PaperSent}
	for _, r := range md.Paper {
		out.Paper = append(out.Paper, bill.Segment{Code: r.Code, Start: r.Start, End: r.End})
	}
	for _, it := range md.ChargeItems {
		out.ChargeItems = append(out.ChargeItems, localstore.ChargeItem{Code: it.Code, Name: it.Name, Pinyin: it.Pinyin,
			CategoryCode: it.CategoryCode, Unit: it.Unit, Spec: it.Spec, Price: it.Price, MedicalClass: it.MedicalClass, Disabled: it.Disabled})
	}
	for _, pc := range md.PayChannels {
		out.PayChannels = append(out.PayChannels, localstore.PayChannel{Code: pc.Code, Name: pc.Name, Disabled: pc.Disabled})
	}
	for _, u := range md.Users {
		out.Users = append(out.Users, localstore.OfflineUser{Login: u.Login, Name: u.Name, PasswordHash: u.PasswordHash,
			Roles: u.Roles, Disabled: u.Disabled, MustChange: u.MustChange, SecondFactor: u.SecondFactor, Removed: u.Removed})
	}
	for _, m := range md.Messages {
		out.Messages = append(out.Messages, localstore.Message{ID: m.ID, Title: m.Title, Body: m.Body, CreatedAt: m.CreatedAt})
	}
	return out
}

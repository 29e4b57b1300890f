package his

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/sync/wire"
)

// MedicalClient calls a medical API as a HIS does — signed envelope,
// fresh noise, signed answer checked. It is the joint-debugging tool's
// client (ebill-server his call), for an IT administrator checking a HIS
// app's key, points and data against a running server.
type MedicalClient struct {
	URL       string // the server, e.g. https://192.168.1.10:8443
	AppID     string
	Key       string
	SignOrder []string // default server.DefaultSignOrder
	Version   string   // default 1.0
	HTTP      *http.Client
}

// NewMedicalClient makes a client; with a fingerprint the server's
// certificate is pinned to it (a self-signed server).
func NewMedicalClient(url, appid, key, fingerprint string) *MedicalClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if fingerprint != "" {
		tr.TLSClientConfig = wire.PinnedTLS(fingerprint)
	}
	return &MedicalClient{URL: strings.TrimRight(url, "/"), AppID: appid, Key: key,
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// MedicalAnswer is a decoded answer.
type MedicalAnswer struct {
	Result  string `json:"result"`
	Message []byte `json:"-"` // the business JSON on S0000, else the Chinese text
	Signed  bool   `json:"signed"`
	Bare    bool   `json:"-"` // the answer carried no sign (an unknown or disabled appid, a malformed request)
}

// Call sends business (the JSON of the call) to a service id.
func (c *MedicalClient) Call(ctx context.Context, service string, business []byte) (*MedicalAnswer, error) {
	order, version := c.SignOrder, c.Version
	if len(order) == 0 {
		order = server.DefaultSignOrder
	}
	if version == "" {
		version = "1.0"
	}
	req := MedicalRequest{AppID: c.AppID, Data: base64.StdEncoding.EncodeToString(business), Noise: uuid.Must(uuid.NewV7()).String(), Version: version}
	req.Sign = MedicalSign(order, req.signValues(c.Key))
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+MedicalPathPrefix+service, bytes.NewReader(body))
	if err != nil {
		return nil, bill.Errorf(bill.EInvalid, "服务器地址 %q 不正确：%v", c.URL, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, bill.Errorf(bill.EUnavailable, "无法连接服务器 %s：%v", c.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	var env MedicalResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &env) != nil {
		return nil, bill.Errorf(bill.EUnavailable, "服务器的回答不是医疗票据接口的响应（HTTP %d）：%.200s", resp.StatusCode, raw)
	}
	data, err := base64.StdEncoding.DecodeString(env.Data)
	if err != nil {
		return nil, fmt.Errorf("server: medical answer data: %w", err)
	}
	var res MedicalResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("server: medical answer: %w", err)
	}
	msg, err := base64.StdEncoding.DecodeString(res.Message)
	if err != nil {
		return nil, fmt.Errorf("server: medical answer message: %w", err)
	}
	want := MedicalSign(order, (&MedicalRequest{AppID: c.AppID, Data: env.Data, Noise: env.Noise, Version: version}).signValues(c.Key))
	signed := env.Noise == req.Noise && subtle.ConstantTimeCompare([]byte(env.Sign), []byte(want)) == 1
	return &MedicalAnswer{Result: res.Result, Message: msg, Signed: signed, Bare: env.Sign == ""}, nil
}

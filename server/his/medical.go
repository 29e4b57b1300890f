package his

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/server"
)

// The Bosssoft-compatible medical API (domain.md §5) that HIS systems in
// the field already speak: POST {base}/medical-web/api/medical/{serviceId}
// with {appid, data, noise, version, sign}; data is the Base64 of the
// business JSON; sign is the uppercase hex MD5 of
// "appid=..&data=..&noise=..&key=..&version=.." in that order (the order
// is set per caller). Responses are {data, noise, sign}, data being the
// Base64 of {result, message}, message the Base64 of the business JSON on
// success or of a Chinese error text on failure.

// MedicalPathPrefix is the path under which every service id is served.
const MedicalPathPrefix = "/medical-web/api/medical/"

// Result codes of the medical API. S0000 is success; the others are ours,
// documented in docs/his-integration.md.
const (
	ResultOK            = "S0000"
	ResultBadRequest    = "E1001" // the envelope is not JSON or lacks a field
	ResultUnknownApp    = "E1002" // appid unknown or disabled
	ResultBadSign       = "E1003" // the signature does not match
	ResultReplay        = "E1004" // a noise already used within the window
	ResultTooLarge      = "E1005" // body over the limit
	ResultBadBase64     = "E1006" // data is not Base64
	ResultBadData       = "E1007" // the business JSON cannot be read
	ResultUnknownSvc    = "E1008" // no such service id
	ResultNotYourPoint  = "E1009" // the caller may not act for this billing point
	ResultNotFromHere   = "E1010" // the caller's address is not one its app may call from
	ResultBadEncoding   = "E1011" // the business data is not UTF-8 (GBK from older HIS)
	ResultInvalid       = "E2001" // business rules refused the request
	ResultReversed      = "E2002" // the bill is already reversed (message contains 已冲销)
	ResultNotFound      = "E2003" // no such bill
	ResultNoStock       = "E2004" // no numbers left / paper used up
	ResultConflict      = "E2005" // the busNo was used with other content, or a state conflict
	ResultLimit         = "E2006" // an offline or single-bill limit
	ResultInternal      = "E9999" // our fault; retry later
	MedicalNoiseWindow  = 24 * time.Hour
	MaxMedicalBodyBytes = 8 << 20
	// MaxMedicalCallBytes bounds a call of any service that is not a batch:
	// a settlement with a long detail list is well under 1 MB.
	MaxMedicalCallBytes = 1 << 20
)

// ResultMessages are the Chinese texts of the result codes.
var ResultMessages = map[string]string{
	ResultOK: "成功", ResultBadRequest: "请求格式错误", ResultUnknownApp: "应用账号不存在或已停用",
	ResultBadSign: "签名错误", ResultReplay: "请求重复（noise 已使用）", ResultTooLarge: "请求过大",
	ResultBadBase64: "data 不是合法的 Base64", ResultBadData: "业务数据格式错误", ResultUnknownSvc: "未知的服务",
	ResultNotYourPoint: "无权为该开票点开票", ResultNotFromHere: "来源地址不在该应用允许的范围内", ResultBadEncoding: "业务数据不是 UTF-8 编码", ResultPlatformOnly: "该服务由财政电子票据平台提供", ResultNotProvided: "本服务器暂不提供该服务", ResultInvalid: "业务校验未通过", ResultReversed: "票据已冲销",
	ResultNotFound: "未找到票据", ResultNoStock: "票号不足", ResultConflict: "业务冲突", ResultLimit: "超出开票限额",
	ResultInternal: "系统内部错误，请稍后重试",
}

// MedicalRequest is the request envelope.
type MedicalRequest struct {
	AppID    string `json:"appid"`
	Data     string `json:"data"`
	Noise    string `json:"noise"`
	Version  string `json:"version"`
	Sign     string `json:"sign"`
	Region   string `json:"region,omitempty"`
	DeptCode string `json:"deptcode,omitempty"`
}

// MedicalResponse is the response envelope.
type MedicalResponse struct {
	Data  string `json:"data"`
	Noise string `json:"noise"`
	Sign  string `json:"sign"`

	// What the envelope says, for the server's log and metrics.
	AppID    string   `json:"-"`
	Result   string   `json:"-"`
	Failure  string   `json:"-"` // the Chinese message of a failure
	Warnings []string `json:"-"` // what was accepted but should be looked at (a wrong ID check digit)
}

// warningsKey carries a call's warning list through its service.
type warningsKey struct{}

// warnings are a call's warnings; a batch's items add theirs at once.
type warnings struct {
	mu   sync.Mutex
	list []string
}

// warn records a warning of the HIS call running in ctx (for its log line
// and the warnings metric); outside a call it does nothing.
func warn(ctx context.Context, w ...string) {
	if ws, ok := ctx.Value(warningsKey{}).(*warnings); ok && len(w) > 0 {
		ws.mu.Lock()
		ws.list = append(ws.list, w...)
		ws.mu.Unlock()
	}
}

// MedicalResult is what a response's data decodes to.
type MedicalResult struct {
	Result  string `json:"result"`
	Message string `json:"message"`
}

// MedicalSign computes the signature: the uppercase hex MD5 of
// "name=value&..." over order, key being the caller's secret.
func MedicalSign(order []string, values map[string]string) string {
	var b strings.Builder
	for i, name := range order {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(values[name])
	}
	sum := md5.Sum([]byte(b.String()))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func (r *MedicalRequest) signValues(key string) map[string]string {
	return map[string]string{"appid": r.AppID, "data": r.Data, "noise": r.Noise, "key": key, "version": r.Version,
		"region": r.Region, "deptcode": r.DeptCode}
}

// MedicalService handles one service id: the caller and the decoded
// business JSON in, the business result (encoded as JSON) out.
type MedicalService func(ctx context.Context, app *server.HISApp, data []byte) (any, error)

// medicalFailure is a failure with its result code.
type medicalFailure struct {
	code string
	msg  string
}

func (f *medicalFailure) Error() string { return f.code + " " + f.msg }

func failMedical(code, format string, args ...any) error {
	return &medicalFailure{code: code, msg: fmt.Sprintf(format, args...)}
}

// resultOf maps an error to its result code and Chinese message.
func resultOf(err error) (string, string) {
	var mf *medicalFailure
	if errors.As(err, &mf) {
		return mf.code, mf.msg
	}
	err = server.AsUnavailable(err)
	msg := bill.ErrorMessage(err)
	switch bill.ErrorCode(err) {
	case bill.EInvalid:
		return ResultInvalid, msg
	case bill.EEncoding:
		return ResultBadEncoding, msg
	case bill.EAlreadyReversed:
		return ResultReversed, msg
	case bill.ENotFound:
		return ResultNotFound, msg
	case bill.ENoStock:
		return ResultNoStock, msg
	case bill.EConflict:
		return ResultConflict, msg
	case bill.ELimit:
		return ResultLimit, msg
	case bill.EUnavailable:
		if !strings.Contains(msg, "重试") {
			msg += "；请稍后重试"
		}
		return ResultInternal, msg
	case bill.EUnauthorized, bill.EForbidden:
		return ResultNotYourPoint, msg
	}
	return ResultInternal, ResultMessages[ResultInternal]
}

// MaxBodyFor is the body limit of a service: batch issuing gets the
// large one, every other service (and any unknown name) the small one.
func MaxBodyFor(serviceID string) int {
	if strings.HasPrefix(serviceID, "batchInvoiceEBill") || serviceID == "invEBillCheckUpBatch" {
		return MaxMedicalBodyBytes
	}
	return MaxMedicalCallBytes
}

// HandleMedical runs one call of the medical API: the raw request body in,
// the response envelope out (always answered with HTTP 200, as callers in
// the field read the message only from a 200). A request that fails a
// check stores nothing.
func (s *Adapter) HandleMedical(ctx context.Context, serviceID string, body []byte, services map[string]MedicalService) (*MedicalResponse, error) {
	var req MedicalRequest
	ws := &warnings{}
	ctx = context.WithValue(ctx, warningsKey{}, ws)
	respond := func(app *server.HISApp, code, message string, payload any) (*MedicalResponse, error) {
		res := MedicalResult{Result: code}
		if text, ok := payload.(SuccessText); ok && code == ResultOK {
			res.Message = base64.StdEncoding.EncodeToString([]byte(text))
		} else if code == ResultOK {
			b, err := json.Marshal(payload)
			if err != nil {
				return nil, err
			}
			res.Message = base64.StdEncoding.EncodeToString(b)
		} else {
			res.Message = base64.StdEncoding.EncodeToString([]byte(message))
		}
		raw, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		out := &MedicalResponse{Data: base64.StdEncoding.EncodeToString(raw), Result: code}
		if app != nil {
			out.Noise = req.Noise // echoed only to a caller whose appid is known
		}
		if code != ResultOK {
			out.Failure = message
		}
		out.AppID = truncate(req.AppID, 64) // as the caller claims, for the log: never whole
		ws.mu.Lock()
		out.Warnings = ws.list
		ws.mu.Unlock()
		if app != nil {
			// The response is signed like the request, over its own data and
			// noise, with the caller's appid and version.
			v := (&MedicalRequest{AppID: req.AppID, Data: out.Data, Noise: out.Noise, Version: req.Version,
				Region: req.Region, DeptCode: req.DeptCode}).signValues(app.Secret())
			out.Sign = MedicalSign(app.SignOrder, v)
		}
		return out, nil
	}
	if limit := MaxBodyFor(serviceID); len(body) > limit {
		return respond(nil, ResultTooLarge, fmt.Sprintf("请求过大（超过上限 %d 字节）；批量开票请分批提交", limit), nil)
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if err := json.Unmarshal(body, &req); err != nil || req.AppID == "" || req.Data == "" || req.Noise == "" || req.Sign == "" {
		return respond(nil, ResultBadRequest, "请求格式错误：需要 JSON 对象，含 appid、data、noise、version、sign", nil)
	}
	app, err := s.LookupHISApp(ctx, req.AppID)
	if err != nil && bill.ErrorCode(err) != bill.ENotFound {
		return nil, err
	}
	if app == nil || app.Disabled {
		return respond(nil, ResultUnknownApp, "应用账号不存在或已停用，请核对 appid 或联系医院信息科", nil)
	}
	want := MedicalSign(app.SignOrder, req.signValues(app.Secret()))
	if subtle.ConstantTimeCompare([]byte(strings.ToUpper(req.Sign)), []byte(want)) != 1 {
		return respond(app, ResultBadSign, "签名错误：请核对密钥和签名字段顺序", nil)
	}
	if from := server.ActorOf(ctx).From; !app.MayCallFrom(from) {
		s.log.Warn("HIS call from an address its app may not call from", "appid", app.AppID, "from", from)
		return respond(app, ResultNotFromHere, "来源地址 "+from+" 不在应用 "+app.AppID+" 允许的范围内，请联系医院信息科", nil)
	}
	svc, ok := services[serviceID]
	if !ok {
		if code, why, known := NotProvided(serviceID); known {
			return respond(app, code, serviceID+"："+why, nil)
		}
		return respond(app, ResultUnknownSvc, "未知的服务："+truncate(serviceID, 64), nil)
	}
	data, err := base64.StdEncoding.DecodeString(req.Data)
	if err != nil {
		return respond(app, ResultBadBase64, "data 不是合法的 Base64："+err.Error(), nil)
	}
	if err := bill.CheckUTF8(data); err != nil {
		return respond(app, ResultBadEncoding, bill.ErrorMessage(err), nil)
	}
	fresh, err := s.UseNoise(ctx, app.AppID, req.Noise)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return respond(app, ResultReplay, "请求重复：noise "+req.Noise+" 已使用过，每次请求须使用新的 noise", nil)
	}
	result, err := svc(ctx, app, data)
	if err != nil {
		code, msg := resultOf(err)
		if code == ResultInternal {
			s.log.Error("medical service failed", "service", serviceID, "appid", app.AppID, "err", err)
		}
		return respond(app, code, msg, nil)
	}
	return respond(app, ResultOK, "", result)
}

// medicalInternalData is the data of an unsigned E9999 answer, for faults
// that happen before a caller could be identified; msg is ours, never the
// caller's input.
func medicalInternalData(msg string) string {
	raw, _ := json.Marshal(MedicalResult{Result: ResultInternal,
		Message: base64.StdEncoding.EncodeToString([]byte(msg))})
	return base64.StdEncoding.EncodeToString(raw)
}

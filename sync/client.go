// Package sync is the station side of the sync protocol: the HTTP client
// that enrolls a station, uploads its bills and pulls its segments and
// settings. The wire types are in sync/wire.
package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/localstore"
	"github.com/ebill/ebill/sync/wire"
)

// Client talks to one ebill-server as one station.
type Client struct {
	base  string
	http  *http.Client
	key   *bill.PrivateKey
	point string
	now   func() time.Time
}

// InsecureEnv, set to 1, lets a station talk to a server over plain HTTP:
// for test benches that read the traffic, never for a hospital.
const InsecureEnv = localstore.InsecureEnv

// ProgramVersion is the version of the program using this package, sent
// with every request (the programs set it at start).
var ProgramVersion = "dev"

// NewClient makes a client for the server at baseURL. With a fingerprint,
// the server's certificate is pinned to it (a self-signed server); without,
// the system's certificate authorities decide. key and point sign requests;
// they may be nil and "" for enrollment.
func NewClient(baseURL, fingerprint string, key *bill.PrivateKey, point string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, bill.Errorf(bill.EInvalid, "服务器地址 %.100q 不正确，应形如 https://192.168.1.10:8443", baseURL)
	}
	// Signed requests carry ID and phone numbers: never in clear. Plain
	// HTTP only where the environment says it is a test bench.
	if u.Scheme == "http" && os.Getenv(InsecureEnv) != "1" {
		return nil, bill.Errorf(bill.EInvalid, "服务器地址必须以 https:// 开头（收到 %.100q）：票据含身份证号、电话，不能明文传输；请向信息科索取服务器的 https 地址和证书指纹。", baseURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if fingerprint != "" {
		tr.TLSClientConfig = wire.PinnedTLS(fingerprint)
	}
	return &Client{base: u.String(), http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, key: key, point: point, now: time.Now}, nil
}

// Enroll registers this client's key with a one-time code.
func (c *Client) Enroll(ctx context.Context, code string) (*wire.EnrollResponse, error) {
	pub, err := c.key.Public().PEM()
	if err != nil {
		return nil, err
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	proof, err := c.key.Sign([]byte(code))
	if err != nil {
		return nil, err
	}
	var resp wire.EnrollResponse
	err = c.do(ctx, http.MethodPost, wire.PathEnroll, wire.EnrollRequest{Code: code, PublicKey: pub, Proof: proof}, &resp, false)
	return &resp, err
}

// Allocate asks for a new segment of billCode; requestID makes retries safe.
func (c *Client) Allocate(ctx context.Context, billCode, requestID string) (wire.Segment, error) {
	var seg wire.Segment
	err := c.do(ctx, http.MethodPost, wire.PathSegments, wire.AllocateRequest{RequestID: requestID, BillCode: billCode}, &seg, true)
	return seg, err
}

// Upload sends a batch of bills in chain order.
func (c *Client) Upload(ctx context.Context, bills []wire.Bill) (*wire.UploadResponse, error) {
	var resp wire.UploadResponse
	err := c.do(ctx, http.MethodPost, wire.PathBills, wire.UploadRequest{Bills: bills}, &resp, true)
	return &resp, err
}

// UploadPaper sends what became of paper numbers (after their bills).
// ErrPaperUnsupported means the server is of a version without this API.
func (c *Client) UploadPaper(ctx context.Context, uses []wire.PaperUse) (*wire.PaperUploadResponse, error) {
	var resp wire.PaperUploadResponse
	err := c.do(ctx, http.MethodPost, wire.PathPaper, wire.PaperUploadRequest{Uses: uses}, &resp, true)
	if errors.Is(err, errNoSuchAPI) {
		return nil, ErrPaperUnsupported
	}
	return &resp, err
}

// errNoSuchAPI is a 404 without the server's JSON error: no such path.
var errNoSuchAPI = errors.New("no such API on the server")

// ErrPaperUnsupported: the server predates paper reports; the station keeps
// them pending and sends them once the server is upgraded.
var ErrPaperUnsupported = errors.New("the server does not take paper reports yet")

// ReportHeld tells the server the segments this station holds and how far
// each went, and learns how far the server holds the station's chain and
// paper. ErrHeldUnsupported from a server that predates it.
func (c *Client) ReportHeld(ctx context.Context, held []wire.HeldSegment) (*wire.HeldResponse, error) {
	var resp wire.HeldResponse
	err := c.do(ctx, http.MethodPost, wire.PathHeld, wire.HeldRequest{Segments: held}, &resp, true)
	if errors.Is(err, errNoSuchAPI) {
		return nil, ErrHeldUnsupported
	}
	return &resp, err
}

// ErrHeldUnsupported: the server predates held-segment reports.
var ErrHeldUnsupported = errors.New("the server does not take held-segment reports")

// Pull fetches the station's settings, bill kinds and segments, and the
// master data changed after version since.
func (c *Client) Pull(ctx context.Context, since int64) (*wire.PullResponse, error) {
	var resp wire.PullResponse
	err := c.do(ctx, http.MethodGet, wire.PathPull+"?since="+strconv.FormatInt(since, 10), nil, &resp, true)
	return &resp, err
}

// ReportStatus tells the server how the station is doing.
func (c *Client) ReportStatus(ctx context.Context, st wire.StationStatus) error {
	return c.do(ctx, http.MethodPost, wire.PathStatus, st, nil, true)
}

// do sends one request and decodes the answer. Server errors come back as
// the *bill.Error the server meant; a network failure is EUnavailable.
func (c *Client) do(ctx context.Context, method, path string, in, out any, sign bool) error {
	return c.doAs(ctx, method, path, in, out, sign, "")
}

// doAs is do with a user's session token (bearer), for user calls.
func (c *Client) doAs(ctx context.Context, method, path string, in, out any, sign bool, bearer string) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderVersion, ProgramVersion)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if sign {
		auth, err := wire.Authorization(c.key, c.point, method, req.URL.RequestURI(), c.now().UnixMilli(), body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, wire.ErrFingerprint) || strings.Contains(err.Error(), wire.ErrFingerprint.Error()) {
			return bill.Errorf(bill.EUnauthorized, "服务器证书指纹与登记的不一致，已拒绝连接；请向信息科核对服务器地址和证书指纹。")
		}
		return bill.Errorf(bill.EUnavailable, "无法连接服务器 %s：%v；请检查网络，稍后会自动重试。", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return bill.Errorf(bill.EUnavailable, "读取服务器响应失败：%v", err)
	}
	if resp.StatusCode >= 300 {
		var e wire.Error
		if json.Unmarshal(data, &e) == nil && e.Code != "" {
			return &bill.Error{Code: e.Code, Message: e.Message}
		}
		unavailable := bill.Errorf(bill.EUnavailable, "服务器返回 %s，请稍后重试。", resp.Status)
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %w", errNoSuchAPI, unavailable)
		}
		return unavailable
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("sync: decode %s response: %w", path, err)
	}
	return nil
}

// Login signs a user in at the server (the desktop app, online).
func (c *Client) Login(ctx context.Context, login, password string) (*wire.LoginResponse, error) {
	var out wire.LoginResponse
	if err := c.do(ctx, http.MethodPost, wire.PathLogin, wire.LoginRequest{Login: login, Password: password}, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChangePassword changes the signed-in user's password at the server.
//
// The change ends every session of the user at the server; the one that
// changed it goes on under the token returned.
func (c *Client) ChangePassword(ctx context.Context, token, old, next string) (string, error) {
	var out struct{ Token string }
	err := c.doAs(ctx, http.MethodPost, wire.PathPassword, wire.PasswordRequest{Old: old, New: next}, &out, false, token)
	return out.Token, err
}

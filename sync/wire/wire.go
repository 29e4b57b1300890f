// Package wire holds the types of the station↔server sync API (v1) and the
// request signing both sides share. It imports only bill, so the server can
// use it without pulling in the station's store.
package wire

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ebill/ebill/bill"
)

// Paths of the sync API, version 1.
const (
	PathEnroll   = "/api/v1/enroll"
	PathSegments = "/api/v1/segments"
	PathBills    = "/api/v1/bills"
	PathPull     = "/api/v1/pull"
	PathStatus   = "/api/v1/status"
	PathPaper    = "/api/v1/paper"
	PathHeld     = "/api/v1/held"
	PathLogin    = "/api/v1/login"
	PathPassword = "/api/v1/password"
)

// LoginRequest signs a user in (the desktop app, online).
type LoginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResponse carries the session token and who signed in.
type LoginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	Login     string    `json:"login"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	// Stage is what the session still owes before anything else: "" or
	// "full" nothing; "password" a change of a one-time or expired
	// password; "mfa" or "enroll" a second factor (administrators).
	Stage string `json:"stage,omitempty"`
}

// PasswordRequest changes the signed-in user's password; the session
// token goes in "Authorization: Bearer <token>".
type PasswordRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// MaxBatch is the most bills one upload may carry.
const MaxBatch = 500

// Error is the body of every failed response: a stable code (bill.E*) and
// a Chinese message that says what to do.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Settings are a billing point's settings, set centrally.
type Settings struct {
	Limits          bill.Limits `json:"limits"`
	StockAlert      int64       `json:"stockAlert"`      // warn below this many numbers left per bill code
	SegmentSize     int64       `json:"segmentSize"`     // numbers per allocated segment
	RefillThreshold int64       `json:"refillThreshold"` // ask for a segment below this many left
	// MaxHeld caps the numbers of a bill code a station may hold unused or
	// not yet uploaded before it is given more; 0 means 3 segments.
	MaxHeld int64 `json:"maxHeld,omitempty"`
	// The billing point's desk: the pay channel a new bill starts with
	// (cash, 02, when empty) and the 复核人 printed on its bills.
	DefaultPayChannel string `json:"defaultPayChannel,omitempty"`
	Checker           string `json:"checker,omitempty"`
}

// DefaultSettings apply to a point until the administrator sets its own.
var DefaultSettings = Settings{Limits: bill.DefaultLimits, StockAlert: 200, SegmentSize: 1000, RefillThreshold: 300}

// Segment is a range of bill numbers allocated to a point.
type Segment struct {
	ID       string `json:"id"`
	BillCode string `json:"billCode"`
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
}

// BillKind says under which bill code a kind is issued.
type BillKind struct {
	Kind     bill.Kind `json:"kind"`
	BillCode string    `json:"billCode"`
}

// EnrollRequest registers a station's public key with a one-time code.
// Proof is the station's SM2 signature of the code: it holds the key.
type EnrollRequest struct {
	Code      string `json:"code"`
	PublicKey string `json:"publicKey"`
	Proof     []byte `json:"proof"`
}

// EnrollResponse gives an enrolled station what it needs to issue offline.
type EnrollResponse struct {
	PlaceCode      string     `json:"placeCode"`
	PlaceName      string     `json:"placeName"`
	UnitName       string     `json:"unitName"`
	UnitCreditCode string     `json:"unitCreditCode"`
	Settings       Settings   `json:"settings"`
	BillKinds      []BillKind `json:"billKinds"`
	Segments       []Segment  `json:"segments"`
	MasterData     MasterData `json:"masterData"`
}

// AllocateRequest asks for a new segment of a bill code. A retry with the
// same RequestID returns the same segment.
type AllocateRequest struct {
	RequestID string `json:"requestId"`
	BillCode  string `json:"billCode"`
}

// PullResponse is what a station pulls: its settings, the bill kinds,
// every segment allocated to it (adding one it holds already is a no-op),
// and the master data changed since the version it asked from.
type PullResponse struct {
	Settings   Settings   `json:"settings"`
	BillKinds  []BillKind `json:"billKinds"`
	Segments   []Segment  `json:"segments"`
	MasterData MasterData `json:"masterData"`
}

// MasterData is the master data changed after a version; Version is the
// newest, to ask from next time (GET PathPull?since=Version).
type MasterData struct {
	Version     int64        `json:"version"`
	ChargeItems []ChargeItem `json:"chargeItems"`
	PayChannels []PayChannel `json:"payChannels"`
	Users       []User       `json:"users"`
	Messages    []Message    `json:"messages"`
	// UnitSeal is the hospital's seal image (PNG), sent when it changed
	// since the station's version; UnitSealCleared when it was removed.
	UnitSeal        []byte `json:"unitSeal,omitempty"`
	UnitSealCleared bool   `json:"unitSealCleared,omitempty"`
	// Paper is the paper distributed to the station's point and not
	// returned, sent whole (PaperSent) when it changed since the station's
	// version: the station takes in only these numbers.
	Paper     []PaperRange `json:"paper,omitempty"`
	PaperSent bool         `json:"paperSent,omitempty"`
}

// PaperRange is a range of pre-printed paper numbers.
type PaperRange struct {
	Code  string `json:"code"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// ChargeItem is one entry of the charge-item catalogue.
type ChargeItem struct {
	Code         string      `json:"code"`
	Name         string      `json:"name"`
	Pinyin       string      `json:"pinyin"` // initials, e.g. qmsp for 青霉素片
	CategoryCode string      `json:"categoryCode"`
	Unit         string      `json:"unit"`
	Spec         string      `json:"spec"`
	Price        bill.Money4 `json:"price"`
	MedicalClass string      `json:"medicalClass"`
	Disabled     bool        `json:"disabled"`
	Version      int64       `json:"version"`
}

// PayChannel is a payment channel code and its name.
type PayChannel struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled"`
	Version  int64  `json:"version"`
}

// User is what a station keeps to let a user sign in while offline.
type User struct {
	Login        string   `json:"login"`
	Name         string   `json:"name"`
	PasswordHash string   `json:"passwordHash"` // bcrypt
	Roles        []string `json:"roles"`
	Disabled     bool     `json:"disabled"`
	// MustChange: a password an administrator set, or expired; the user
	// signs in online only, to change it.
	MustChange bool `json:"mustChange,omitempty"`
	// SecondFactor: the policy requires a second factor of the user, which
	// the desk does not ask for: such a user works in the console.
	SecondFactor bool  `json:"secondFactor,omitempty"`
	Version      int64 `json:"version"`
	// Removed: the station must no longer hold this account (not a desk
	// role, or not of this point); it deletes what it has.
	Removed bool `json:"removed,omitempty"`
}

// Message is a notice from the centre to stations.
type Message struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
	Version   int64     `json:"version"`
}

// StationStatus is what a station reports about itself.
type StationStatus struct {
	Pending   int    `json:"pending"`
	Rejected  int    `json:"rejected"`
	LastError string `json:"lastError"`
	Version   string `json:"version"`
	// Read are the messages the desk has read (the last 200): the
	// console's read receipts.
	Read []ReadReceipt `json:"read,omitempty"`
}

// ReadReceipt says a message was read at the desk, and when.
type ReadReceipt struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// Bill is one signed bill as a station uploads it.
type Bill struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`
	BillCode  string `json:"billCode"`
	BillNo    int64  `json:"billNo"`
	CheckCode string `json:"checkCode"`
	Content   []byte `json:"content"`
	Hash      []byte `json:"hash"`
	Signature []byte `json:"signature"`
}

// PaperUse is what became of one pre-printed paper number at a station, as
// it stands now: printed with a bill, voided after printing, or voided
// blank. Version grows with every change at the station.
type PaperUse struct {
	PaperCode string `json:"paperCode"`
	PaperNo   int64  `json:"paperNo"`
	Status    string `json:"status"`           // printed, voided, blank_void
	BillID    string `json:"billId,omitempty"` // none for a blank void
	Reason    string `json:"reason,omitempty"`
	Operator  string `json:"operator,omitempty"`
	UsedAt    int64  `json:"usedAt"`             // ms since the epoch
	VoidedAt  int64  `json:"voidedAt,omitempty"` // ms; 0 while printed
	Version   int64  `json:"version"`
}

// Paper use statuses.
const (
	PaperPrinted   = "printed"
	PaperVoided    = "voided"
	PaperBlankVoid = "blank_void"
)

// PaperUploadRequest carries up to MaxBatch paper uses.
type PaperUploadRequest struct {
	Uses []PaperUse `json:"uses"`
}

// PaperAck is the server's answer for one paper use: stored, or a
// conflict (recorded nowhere else: the station keeps it pending and says why).
type PaperAck struct {
	PaperCode string `json:"paperCode"`
	PaperNo   int64  `json:"paperNo"`
	Version   int64  `json:"version"`
	Status    string `json:"status"` // AckStored or AckConflict
	Message   string `json:"message,omitempty"`
}

// PaperUploadResponse answers a PaperUploadRequest, one ack per use, in order.
type PaperUploadResponse struct {
	Acks []PaperAck `json:"acks"`
}

// HeldRequest is what a station holds, sent at the start of every pass:
// its segments and how far each went. A server restored from an older
// backup learns from it the segments it allocated after the backup, and
// allocates again only when every station has reported (issue 20).
type HeldRequest struct {
	Segments []HeldSegment `json:"segments"`
}

// HeldSegment is a segment a station holds; Next is the first number it
// has not used (End+1 when used up).
type HeldSegment struct {
	BillCode string `json:"billCode"`
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Next     int64  `json:"next"`
}

// HeldResponse tells the station what the server holds of its work: the
// last chain position, and the time of the newest paper record. A station
// whose acknowledged bills or paper records go beyond them (the server was
// restored) sends those again.
type HeldResponse struct {
	ChainSeq  int64 `json:"chainSeq"`
	PaperUpTo int64 `json:"paperUpTo"` // Unix ms: the newest use or void time of this point's paper the server holds
}

// UploadRequest carries up to MaxBatch bills in chain order.
type UploadRequest struct {
	Bills []Bill `json:"bills"`
}

// Ack statuses.
const (
	AckStored    = "stored"    // verified and stored now
	AckDuplicate = "duplicate" // already held with the same content: a replay
	AckConflict  = "conflict"  // the same id, number or chain position with other content; recorded
	AckRejected  = "rejected"  // not stored: bad signature, broken chain, number not allocated, bad totals
)

// Ack is the server's answer for one uploaded bill.
type Ack struct {
	ID      string `json:"id"`
	Seq     int64  `json:"seq"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"` // Chinese, for conflicts and rejections
}

// UploadResponse acknowledges each bill of an upload, in order.
type UploadResponse struct {
	Acks     []Ack `json:"acks"`
	ChainSeq int64 `json:"chainSeq"` // the last seq of this point the server holds
}

// HeaderVersion carries the station program's version on every request;
// the server refuses versions below the minimum it is told to require.
const HeaderVersion = "X-Ebill-Version"

// CompareVersions compares two program versions by their leading dotted
// numbers ("0.19.326", "0.19.326+c3ed5a4", "v0.20"): -1, 0 or 1. A version
// without numbers ("dev", "") is older than any with them.
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int64 = -1, -1
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int64 {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	var parts []int64
	for _, f := range strings.Split(v, ".") {
		end := 0
		for end < len(f) && f[end] >= '0' && f[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.ParseInt(f[:end], 10, 64)
		if err != nil {
			break
		}
		parts = append(parts, n)
		if end < len(f) {
			break
		}
	}
	return parts
}

// AuthHeader carries a station's request signature:
//
//	Authorization: EBILL-SM2 point=P01,ts=1764060000000,sig=<base64>
//
// The signature is SM2 over SigningString. A request is valid for
// MaxClockSkew around its timestamp.
const AuthScheme = "EBILL-SM2"

// MaxClockSkew bounds the difference between a station's clock and the server's.
const MaxClockSkew = 5 * time.Minute

// SigningString is what a station signs for one request.
func SigningString(method, path string, ts int64, body []byte) []byte {
	h := bill.ContentHash(body)
	return []byte(fmt.Sprintf("%s\n%s\n%d\n%s", method, path, ts, hex.EncodeToString(h)))
}

// Authorization returns the header value for a request signed with key.
func Authorization(key *bill.PrivateKey, point, method, path string, ts int64, body []byte) (string, error) {
	sig, err := key.Sign(SigningString(method, path, ts, body))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s point=%s,ts=%d,sig=%s", AuthScheme, point, ts, base64.StdEncoding.EncodeToString(sig)), nil
}

// ParsedAuth is a parsed Authorization header.
type ParsedAuth struct {
	Point string
	TS    int64
	Sig   []byte
}

// ParseAuthorization reads an Authorization header written by Authorization.
func ParseAuthorization(h string) (ParsedAuth, error) {
	var a ParsedAuth
	rest, ok := strings.CutPrefix(h, AuthScheme+" ")
	if !ok {
		return a, fmt.Errorf("not %s", AuthScheme)
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "point":
			a.Point = v
		case "ts":
			a.TS, _ = strconv.ParseInt(v, 10, 64)
		case "sig":
			sig, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return a, err
			}
			a.Sig = sig
		}
	}
	if a.Point == "" || a.TS == 0 || len(a.Sig) == 0 {
		return a, fmt.Errorf("incomplete %s header", AuthScheme)
	}
	return a, nil
}

// Fingerprint is the hex SHA-256 of a certificate (DER), as printed by the
// server and pinned by stations; comparison ignores case and colons.
func SameFingerprint(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, ":", "")) }
	return subtle.ConstantTimeCompare([]byte(norm(a)), []byte(norm(b))) == 1
}

// ErrFingerprint is a server certificate that does not match the pin.
var ErrFingerprint = errors.New("server certificate does not match the pinned fingerprint")

// PinnedTLS is a client TLS configuration that trusts exactly the server
// certificate with this fingerprint (a self-signed server), whatever the
// system's certificate authorities say.
func PinnedTLS(fingerprint string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no certificate")
			}
			sum := sha256.Sum256(raw[0])
			if !SameFingerprint(hex.EncodeToString(sum[:]), fingerprint) {
				return ErrFingerprint
			}
			return nil
		},
	}
}

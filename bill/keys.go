package bill

import (
	"crypto/ecdsa"
	"encoding/pem"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// PrivateKey is a billing point's SM2 signing key. It is stored as PEM
// ("PRIVATE KEY", PKCS#8) and never leaves the billing point.
type PrivateKey struct{ k *sm2.PrivateKey }

// PublicKey is the public half, registered with the server and stored as
// PEM ("PUBLIC KEY", SubjectPublicKeyInfo with the SM2 curve).
type PublicKey struct{ k *ecdsa.PublicKey }

// GenerateKey makes a new SM2 key pair.
func GenerateKey() (*PrivateKey, error) {
	k, err := sm2.GenerateKey(randReader)
	if err != nil {
		return nil, fmt.Errorf("bill: generate SM2 key: %w", err)
	}
	return &PrivateKey{k}, nil
}

// Sign signs msg with SM2 (GB/T 32918.2, default user id), ASN.1 encoded.
func (p *PrivateKey) Sign(msg []byte) ([]byte, error) {
	return p.k.Sign(randReader, msg, sm2.DefaultSM2SignerOpts)
}

// Public returns the public key.
func (p *PrivateKey) Public() *PublicKey { return &PublicKey{&p.k.PublicKey} }

// Verify reports whether sig is a valid SM2 signature of msg.
func (p *PublicKey) Verify(msg, sig []byte) bool {
	return sm2.VerifyASN1WithSM2(p.k, nil, msg, sig)
}

// PEM encodes the private key as PKCS#8 PEM.
func (p *PrivateKey) PEM() (string, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(p.k)
	if err != nil {
		return "", fmt.Errorf("bill: encode private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// PEM encodes the public key as SubjectPublicKeyInfo PEM.
func (p *PublicKey) PEM() (string, error) {
	der, err := smx509.MarshalPKIXPublicKey(p.k)
	if err != nil {
		return "", fmt.Errorf("bill: encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// ParsePrivateKeyPEM reads a key written by (*PrivateKey).PEM.
func ParsePrivateKeyPEM(s string) (*PrivateKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, Errorf(EInvalid, "私钥格式不正确（应为 PKCS#8 PEM）")
	}
	k, err := smx509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, Errorf(EInvalid, "私钥无法解析：%v", err)
	}
	sk, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, Errorf(EInvalid, "私钥不是 SM2 密钥")
	}
	return &PrivateKey{sk}, nil
}

// ParsePublicKeyPEM reads a key written by (*PublicKey).PEM.
func ParsePublicKeyPEM(s string) (*PublicKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, Errorf(EInvalid, "公钥格式不正确（应为 PEM）")
	}
	k, err := smx509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, Errorf(EInvalid, "公钥无法解析：%v", err)
	}
	pk, ok := k.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pk) {
		return nil, Errorf(EInvalid, "公钥不是 SM2 公钥")
	}
	return &PublicKey{pk}, nil
}

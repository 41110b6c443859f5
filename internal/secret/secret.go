package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	iterations = 100_000
	keyLen     = 32
	saltLen    = 16
	nonceLen   = 12
	tagLen     = 16
)

// ErrDecrypt is returned for a ciphertext that does not authenticate under
// the secret: tampered data or the wrong secret. It never says which.
var ErrDecrypt = errors.New("password decryption failed: wrong server secret or corrupted value")

// Box encrypts and decrypts with one server secret. The secret is kept
// unexported so that printing a Box prints nothing sensitive.
type Box struct {
	secret string
}

// New returns a Box for the given server secret, which must not be empty.
func New(serverSecret string) (*Box, error) {
	if serverSecret == "" {
		return nil, errors.New("server secret is empty")
	}
	return &Box{secret: serverSecret}, nil
}

// String keeps the secret out of logs and %v output.
func (b *Box) String() string { return "secret.Box{redacted}" }

// ReadFile reads the server secret from path. One trailing newline (LF or
// CRLF) is removed, because editors add it; any other whitespace is part of
// the secret. An empty secret is an error.
func ReadFile(path string) (*Box, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	s := strings.TrimSuffix(string(raw), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return nil, errors.New("secret file is empty")
	}
	return New(s)
}

func (b *Box) aead(salt []byte) (cipher.AEAD, error) {
	key, err := pbkdf2.Key(sha256.New, b.secret, salt, iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// Encrypt returns the stored form of plaintext with a fresh salt and nonce.
func (b *Box) Encrypt(plaintext string) (string, error) {
	buf := make([]byte, saltLen+nonceLen, saltLen+nonceLen+len(plaintext)+tagLen)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("random salt and nonce: %w", err)
	}
	g, err := b.aead(buf[:saltLen])
	if err != nil {
		return "", err
	}
	out := g.Seal(buf, buf[saltLen:], []byte(plaintext), nil)
	return base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt returns the plaintext of a stored value. Any failure to
// authenticate gives ErrDecrypt.
func (b *Box) Decrypt(stored string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return "", fmt.Errorf("password decryption failed: not base64: %w", err)
	}
	if len(raw) < saltLen+nonceLen+tagLen {
		return "", fmt.Errorf("password decryption failed: value too short (%d bytes)", len(raw))
	}
	g, err := b.aead(raw[:saltLen])
	if err != nil {
		return "", err
	}
	plain, err := g.Open(nil, raw[saltLen:saltLen+nonceLen], raw[saltLen+nonceLen:], nil)
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

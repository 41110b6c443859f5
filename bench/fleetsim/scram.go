package fleetsim

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// scramIterations is PostgreSQL's default (scram_iterations): the client
// pays what it pays against a real server.
const scramIterations = 4096

// scramVerifier is what a cluster keeps in pg_authid for a SCRAM-SHA-256
// password (RFC 5802 and 7677). Every simulated server shares one: the
// salted password is derived once, so a login costs the simulator two
// HMACs and a hash, not a PBKDF2.
type scramVerifier struct {
	salt      []byte
	storedKey []byte
	serverKey []byte
}

func newScramVerifier(password string) (*scramVerifier, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return nil, err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return &scramVerifier{salt: salt, storedKey: stored[:], serverKey: hmacSHA256(salted, "Server Key")}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// errBadPassword is a proof that does not match: the login is refused as
// PostgreSQL refuses it (28P01).
var errBadPassword = errors.New("password authentication failed")

// scramLogin runs the SASL exchange of one login on ss. An error other
// than errBadPassword means the client broke the protocol or went away.
func (ss *session) scramLogin(v *scramVerifier) error {
	ss.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := ss.w.Flush(); err != nil {
		return err
	}
	if err := ss.be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	msg, err := ss.be.Receive()
	if err != nil {
		return err
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != "SCRAM-SHA-256" {
		return fmt.Errorf("fleetsim: expected SASLInitialResponse for SCRAM-SHA-256, got %T", msg)
	}
	// client-first-message: gs2 header "n,," (no channel binding over
	// plain TCP), then client-first-message-bare "n=...,r=<nonce>".
	gs2, bare, ok := cutGS2(string(first.Data))
	if !ok {
		return fmt.Errorf("fleetsim: malformed SCRAM client-first-message")
	}
	clientNonce := scramAttr(bare, 'r')
	if clientNonce == "" {
		return fmt.Errorf("fleetsim: SCRAM client-first-message without a nonce")
	}
	nonce := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	fullNonce := clientNonce + base64.StdEncoding.EncodeToString(nonce)
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", fullNonce, base64.StdEncoding.EncodeToString(v.salt), scramIterations)
	ss.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := ss.w.Flush(); err != nil {
		return err
	}
	if err := ss.be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return err
	}
	if msg, err = ss.be.Receive(); err != nil {
		return err
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return fmt.Errorf("fleetsim: expected SASLResponse, got %T", msg)
	}
	// client-final-message: "c=<base64 gs2>,r=<nonce>,p=<proof>".
	withoutProof, proofText, ok := strings.Cut(string(final.Data), ",p=")
	if !ok || scramAttr(withoutProof, 'r') != fullNonce ||
		scramAttr(withoutProof, 'c') != base64.StdEncoding.EncodeToString([]byte(gs2)) {
		return errBadPassword
	}
	proof, err := base64.StdEncoding.DecodeString(proofText)
	if err != nil || len(proof) != sha256.Size {
		return errBadPassword
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	signature := hmacSHA256(v.storedKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for i := range clientKey {
		clientKey[i] = proof[i] ^ signature[i]
	}
	if sum := sha256.Sum256(clientKey); !hmac.Equal(sum[:], v.storedKey) {
		return errBadPassword
	}
	serverSignature := hmacSHA256(v.serverKey, authMessage)
	ss.send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature))})
	return nil
}

// cutGS2 splits a client-first-message into its gs2 header (kept whole,
// the client echoes it in c=) and the bare message. Only "n" and "y"
// (no channel binding) are accepted: the simulator has no TLS.
func cutGS2(msg string) (gs2, bare string, ok bool) {
	if !strings.HasPrefix(msg, "n,") && !strings.HasPrefix(msg, "y,") {
		return "", "", false
	}
	i := strings.IndexByte(msg[2:], ',')
	if i < 0 {
		return "", "", false
	}
	return msg[:2+i+1], msg[2+i+1:], true
}

// scramAttr is the value of attribute name in a comma-separated SCRAM
// message, "" when absent.
func scramAttr(msg string, name byte) string {
	for f := range strings.SplitSeq(msg, ",") {
		if len(f) >= 2 && f[0] == name && f[1] == '=' {
			return f[2:]
		}
	}
	return ""
}

// Package secret encrypts and decrypts monitored-server passwords with the
// interoperable format of docs/design.md: AES-256-GCM under a key derived from
// the server secret with PBKDF2-HMAC-SHA256, stored as
// base64(salt ‖ nonce ‖ ciphertext ‖ tag). It also reads the secret file.
package secret

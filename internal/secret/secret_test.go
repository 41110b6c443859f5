package secret_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/secret"
)

type vectors struct {
	Vectors []struct {
		Secret, Plaintext, Encrypted string
	}
	Tampered []struct {
		Secret, Encrypted string
	} `json:"tampered"`
	WrongSecret []struct {
		Secret, Encrypted string
	} `json:"wrong_secret"`
}

// The vectors were made by an independent implementation of the format and
// are kept, unchanged, in testdata/.
func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "crypto-vectors.json"))
	require.NoError(t, err, "crypto vectors in internal/secret/testdata")
	var v vectors
	require.NoError(t, json.Unmarshal(raw, &v))
	require.NotEmpty(t, v.Vectors)
	return v
}

func TestDecryptVectors(t *testing.T) {
	v := loadVectors(t)
	for _, vec := range v.Vectors {
		box, err := secret.New(vec.Secret)
		require.NoError(t, err)
		got, err := box.Decrypt(vec.Encrypted)
		require.NoError(t, err)
		require.Equal(t, vec.Plaintext, got)
	}
}

func TestDecryptRejectsTamperedAndWrongSecret(t *testing.T) {
	v := loadVectors(t)
	require.NotEmpty(t, v.Tampered)
	require.NotEmpty(t, v.WrongSecret)
	for _, vec := range append(v.Tampered, v.WrongSecret...) {
		box, err := secret.New(vec.Secret)
		require.NoError(t, err)
		_, err = box.Decrypt(vec.Encrypted)
		require.ErrorIs(t, err, secret.ErrDecrypt)
	}
}

func TestRoundTripUsesFreshSaltAndNonce(t *testing.T) {
	box, err := secret.New("server secret")
	require.NoError(t, err)
	a, err := box.Encrypt("pw")
	require.NoError(t, err)
	b, err := box.Encrypt("pw")
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	got, err := box.Decrypt(a)
	require.NoError(t, err)
	require.Equal(t, "pw", got)
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, wantErr string
	}{
		{"plain", "s3cret", ""},
		{"trailing newline", "s3cret\n", ""},
		{"crlf", "s3cret\r\n", ""},
		{"empty", "", "empty"},
		{"only newline", "\n", "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o600))
			box, err := secret.ReadFile(p)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			enc, err := box.Encrypt("x")
			require.NoError(t, err)
			ref, _ := secret.New("s3cret")
			got, err := ref.Decrypt(enc)
			require.NoError(t, err)
			require.Equal(t, "x", got)
		})
	}
	_, err := secret.ReadFile(filepath.Join(dir, "missing"))
	require.Error(t, err)
}

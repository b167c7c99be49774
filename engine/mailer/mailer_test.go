package mailer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/smtptest"
)

func TestMailerSignsWithDKIM(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)

	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	cfg := mailer.Config{Host: "127.0.0.1", Port: sink.Port(), TLS: mailer.TLSNone, Pool: 1,
		DKIM: &mailer.DKIMConfig{Domain: "shop.example", Selector: "peykar", KeyPEM: keyPEM}}
	require.NoError(t, cfg.DKIM.Check())
	m, err := mailer.New(cfg, baseservice.Base{})
	require.NoError(t, err)
	t.Cleanup(m.Close)

	msg := mail.NewMsg()
	require.NoError(t, msg.From("news@shop.example"))
	require.NoError(t, msg.To("sara@example.com"))
	msg.Subject("سلام")
	msg.SetBodyString(mail.TypeTextPlain, "hello")
	// The same message written beforehand (mailer.Built, as the campaign
	// sender writes its own) is signed by the mailer as go-mail signs a Msg.
	var written bytes.Buffer
	_, err = msg.WriteTo(&written)
	require.NoError(t, err)
	built := &mailer.Built{From: "<news@shop.example>", Rcpts: []string{"<sara@example.com>"}, MIME: written.Bytes()}
	results, err := m.SendMessages(context.Background(), []mailer.Message{msg, built})
	require.NoError(t, err)
	require.Len(t, results, 2)
	for _, r := range results {
		require.Equal(t, mailer.Sent, r.Outcome, r.Detail)
	}

	got := sink.Messages()
	require.Len(t, got, 2)
	for i, sent := range got {
		raw := sent.Data
		verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
			LookupTXT: func(domain string) ([]string, error) {
				require.Equal(t, "peykar._domainkey.shop.example", domain)
				return []string{"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
			},
		})
		require.NoError(t, err, i)
		require.Len(t, verifications, 1, i)
		require.NoError(t, verifications[0].Err, "signature %d verifies", i)
		require.Equal(t, "shop.example", verifications[0].Domain)
		require.True(t, bytes.HasPrefix(raw, []byte("DKIM-Signature: ")), i)
	}
	// The signed header block and body are the same for both; only the
	// signature's time and value may differ.
	split := func(raw []byte) []byte {
		_, rest, ok := bytes.Cut(raw, []byte("\r\nDate: "))
		require.True(t, ok)
		return rest
	}
	require.Equal(t, string(split(got[0].Data)), string(split(got[1].Data)))

	bad := mailer.DKIMConfig{Domain: "shop.example", Selector: "s", KeyPEM: []byte("not a key")}
	require.Error(t, bad.Check())
}

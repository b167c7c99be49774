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
	results, err := m.Send(context.Background(), []*mail.Msg{msg})
	require.NoError(t, err)
	require.Equal(t, mailer.Sent, results[0].Outcome, results[0].Detail)

	raw := sink.Messages()[0].Data
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			require.Equal(t, "peykar._domainkey.shop.example", domain)
			return []string{"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
		},
	})
	require.NoError(t, err)
	require.Len(t, verifications, 1)
	require.NoError(t, verifications[0].Err, "signature verifies")
	require.Equal(t, "shop.example", verifications[0].Domain)

	bad := mailer.DKIMConfig{Domain: "shop.example", Selector: "s", KeyPEM: []byte("not a key")}
	require.Error(t, bad.Check())
}

// Package certtest makes the certificates a TLS test needs: a CA of its own,
// a server certificate for localhost signed by it, and a client certificate
// signed by it, written as PEM files. Every test gets fresh keys, so no key
// is ever committed and no test trusts another's CA by accident.
package certtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Set is the PEM files of one CA and the two certificates it signed.
type Set struct {
	Dir        string // where the files are
	CA         string // CA certificate
	ServerCert string // server certificate (localhost, 127.0.0.1)
	ServerKey  string
	ClientCert string // client certificate (for mTLS)
	ClientKey  string
}

// New writes a fresh CA, server and client certificate into dir (created if
// missing); name distinguishes the CA's subject, e.g. "tiershift-test".
func New(t testing.TB, dir, name string) Set {
	t.Helper()
	s, err := Write(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Write is New without a test: it returns the error instead.
func Write(dir, name string) (Set, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Set{}, err
	}
	s := Set{
		Dir: dir, CA: filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server.pem"), ServerKey: filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"),
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return s, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return s, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return s, err
	}
	if err := writePEM(s.CA, "CERTIFICATE", caDER); err != nil {
		return s, err
	}
	leaf := func(cn string, usage x509.ExtKeyUsage, certPath, keyPath string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames:    []string{"localhost"},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
			return err
		}
		return writePEM(keyPath, "PRIVATE KEY", keyDER)
	}
	if err := leaf("localhost", x509.ExtKeyUsageServerAuth, s.ServerCert, s.ServerKey); err != nil {
		return s, err
	}
	if err := leaf(name+" client", x509.ExtKeyUsageClientAuth, s.ClientCert, s.ClientKey); err != nil {
		return s, err
	}
	return s, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

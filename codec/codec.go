// Package codec encrypts every Temporal payload tiershift writes (workflow
// inputs and results, activity arguments and results, Signals, Updates,
// Queries, memos, the state carried across continue-as-new) so that the
// Temporal server, which keeps them for the namespace's retention, only
// ever stores ciphertext: partners' records carry names and email
// addresses of people.
//
// It is a converter.PayloadCodec: AES-256-GCM from the standard library, a
// fresh random nonce per payload, and the ID of the key in the payload's
// metadata, so several keys can be loaded at once (the newest encrypts,
// every one decrypts) and a key can be rotated without re-encrypting
// anything. A payload without the encryption marker is passed through
// unchanged, so histories written before encryption was turned on (running
// campaigns, the recorded replay histories) still read.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/tiershift/tiershift/config"
)

// Metadata written on every encrypted payload. The encoding value is the
// marker Decode looks for; Temporal's samples use the same names, so tools
// that know them recognise the payloads.
const (
	// MetadataEncoding is the payload metadata key Temporal reads the
	// payload's encoding from.
	MetadataEncoding = converter.MetadataEncoding
	// EncodingEncrypted marks a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload, so Decode
	// picks it among the loaded ones after a rotation.
	MetadataKeyID = "encryption-key-id"
)

// Codec encrypts payloads with the newest key of its keyring and decrypts
// with whichever key a payload names. It is safe for concurrent use.
type Codec struct{ ring *Keyring }

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec over ring, which must hold at least one key.
func New(ring *Keyring) *Codec { return &Codec{ring: ring} }

// Encode encrypts each payload whole (data and metadata, so the encoding
// of the value inside is hidden too) under the newest key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	key := c.ring.newest()
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload: marshal it: %w", err)
		}
		nonce := make([]byte, key.aead.NonceSize(), key.aead.NonceSize()+len(plain)+key.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encrypt payload: draw a nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(key.id),
			},
			// The key ID is authenticated data: a payload whose metadata was
			// changed to name another key fails to open instead of being
			// read under the wrong one.
			Data: key.aead.Seal(nonce, nonce, plain, []byte(key.id)),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec (or an earlier key of its
// keyring) encrypted and returns every other payload as it is.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		key, ok := c.ring.byID[id]
		if !ok {
			return nil, fmt.Errorf("decrypt payload: it was encrypted with key %q, which is not loaded (loaded: %v)", id, c.ring.IDs())
		}
		n := key.aead.NonceSize()
		if len(p.Data) < n+key.aead.Overhead() {
			return nil, fmt.Errorf("decrypt payload under key %q: %d bytes is too short to be one", id, len(p.Data))
		}
		plain, err := key.aead.Open(nil, p.Data[:n], p.Data[n:], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decrypt payload under key %q: %w", id, errors.New("authentication failed (wrong key, or the payload was altered)"))
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("decrypt payload under key %q: unmarshal it: %w", id, err)
		}
		out[i] = &dec
	}
	return out, nil
}

// DataConverter wraps Temporal's default data converter with the codec:
// what the worker and every starter command give the client.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter also moves failure messages and stack traces into an
// encrypted payload: an error text can quote a partner's record.
func (c *Codec) FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}

// FromConfig loads the codec from the keys the configuration points at
// (config.EnvCodecKeyFile or config.EnvCodecKeys); the error wraps
// ErrNoKeys when neither is set.
func FromConfig(cfg config.Config) (*Codec, error) {
	ring, err := Load(cfg.CodecKeyFile, config.EnvCodecKeyFile, cfg.CodecKeys, config.EnvCodecKeys)
	if err != nil {
		return nil, err
	}
	return New(ring), nil
}

// Apply sets the client options' data and failure converters to the
// configured codec: the one place the worker, every starter command and the
// tests' clients get it. The error wraps ErrNoKeys when no key is
// configured; opts is then left as it was (payloads in clear).
func Apply(cfg config.Config, opts *client.Options) error {
	cdc, err := FromConfig(cfg)
	if err != nil {
		return err
	}
	opts.DataConverter = cdc.DataConverter()
	opts.FailureConverter = cdc.FailureConverter(opts.DataConverter)
	return nil
}

// DataConverterFor is the converter the processes' clients use: encrypting
// when keys are configured, Temporal's default otherwise. Code that builds
// payloads itself (a batch operation's Signal input) must use it, or its
// payloads would bypass the codec.
func DataConverterFor(cfg config.Config) (converter.DataConverter, error) {
	cdc, err := FromConfig(cfg)
	if errors.Is(err, ErrNoKeys) {
		return converter.GetDefaultDataConverter(), nil
	}
	if err != nil {
		return nil, err
	}
	return cdc.DataConverter(), nil
}

type aeadKey struct {
	id   string
	aead cipher.AEAD
}

func newKey(id string, secret []byte) (aeadKey, error) {
	if len(secret) != 32 {
		return aeadKey{}, fmt.Errorf("want 32 bytes (AES-256), got %d", len(secret))
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return aeadKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return aeadKey{}, err
	}
	return aeadKey{id: id, aead: aead}, nil
}

package codec

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// secret returns a 32-byte key of one repeated byte, base64-encoded.
func secret(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func ring(t *testing.T, entries string) *Keyring {
	t.Helper()
	r, err := Load("", "KEYFILE", entries, "KEYS")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func personal(t *testing.T) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"name": "Élodie Martin", "email": "elodie.martin@example.fr"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEncodeHidesTheValueAndDecodeRestoresIt(t *testing.T) {
	c := New(ring(t, "k1:"+secret(1)))
	in := personal(t)
	enc, err := c.Encode([]*commonpb.Payload{in, in})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range enc {
		raw, _ := proto.Marshal(p)
		for _, clear := range []string{"elodie.martin@example.fr", "Martin", "json/plain"} {
			if bytes.Contains(raw, []byte(clear)) {
				t.Errorf("encrypted payload contains %q in clear", clear)
			}
		}
		if got := string(p.Metadata[MetadataEncoding]); got != EncodingEncrypted {
			t.Errorf("encoding = %q, want %q", got, EncodingEncrypted)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Errorf("key ID = %q, want k1", got)
		}
	}
	if bytes.Equal(enc[0].Data[:12], enc[1].Data[:12]) || bytes.Equal(enc[0].Data, enc[1].Data) {
		t.Error("the same payload encrypted twice gave the same nonce or ciphertext: the nonce must be fresh")
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dec {
		if !proto.Equal(p, in) {
			t.Errorf("decoded %v, want %v", p, in)
		}
	}
}

func TestPayloadsWithoutTheMarkerReadAsBefore(t *testing.T) {
	c := New(ring(t, "k1:"+secret(1)))
	in := personal(t)
	dec, err := c.Decode([]*commonpb.Payload{in})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], in) {
		t.Errorf("a clear payload changed on decode: %v", dec[0])
	}
}

func TestRotationNewestEncryptsEveryKeyDecrypts(t *testing.T) {
	old := New(ring(t, "k1:"+secret(1)))
	rotated := New(ring(t, "k1:"+secret(1)+",k2:"+secret(2)))
	onlyNew := New(ring(t, "k2:"+secret(2)))
	in := personal(t)
	underOld, _ := old.Encode([]*commonpb.Payload{in})
	underNew, _ := rotated.Encode([]*commonpb.Payload{in})
	if got := string(underNew[0].Metadata[MetadataKeyID]); got != "k2" {
		t.Errorf("after rotation the key ID is %q, want the newest, k2", got)
	}
	for name, p := range map[string]*commonpb.Payload{"old": underOld[0], "new": underNew[0]} {
		dec, err := rotated.Decode([]*commonpb.Payload{p})
		if err != nil || !proto.Equal(dec[0], in) {
			t.Errorf("rotated keyring decoding the %s payload: %v, %v", name, dec, err)
		}
	}
	if _, err := onlyNew.Decode(underOld); err == nil || !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("decoding with the key removed: %v; want an error naming key k1", err)
	}
}

func TestAlteredPayloadsFailToOpen(t *testing.T) {
	c := New(ring(t, "k1:"+secret(1)+",k2:"+secret(2)))
	enc, _ := c.Encode([]*commonpb.Payload{personal(t)})
	relabelled := proto.Clone(enc[0]).(*commonpb.Payload)
	relabelled.Metadata[MetadataKeyID] = []byte("k1")
	flipped := proto.Clone(enc[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	short := proto.Clone(enc[0]).(*commonpb.Payload)
	short.Data = short.Data[:10]
	for name, p := range map[string]*commonpb.Payload{"relabelled": relabelled, "flipped": flipped, "short": short} {
		if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
			t.Errorf("%s payload decoded without error", name)
		}
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	c := New(ring(t, "k1:"+secret(1)))
	dc := c.DataConverter()
	p, err := dc.ToPayload("elodie.martin@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("elodie")) {
		t.Error("the data converter left the value in clear")
	}
	var got string
	if err := dc.FromPayload(p, &got); err != nil || got != "elodie.martin@example.fr" {
		t.Errorf("FromPayload = %q, %v", got, err)
	}
}

func TestLoadNamesTheProblemNeverTheKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	good := secret(7)
	shortKey := base64.StdEncoding.EncodeToString([]byte("sixteen-byte-key"))
	content := "# comment\n\nk1:" + good + "\nk1:" + good + "\nbad id:" + good + "\nk3:" + shortKey + "\nk4:%%%\nno-colon\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file, "TIERSHIFT_CODEC_KEY_FILE", "", "TIERSHIFT_CODEC_KEYS")
	if err == nil {
		t.Fatal("a file with bad lines loaded")
	}
	for _, want := range []string{file + ":4: key ID \"k1\" is listed twice", file + ":5: key ID", file + ":6: key \"k3\": want 32 bytes", file + ":7: key \"k4\": not base64", file + ":8: want ID:BASE64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), good) || strings.Contains(err.Error(), shortKey) {
		t.Error("the error quotes a key")
	}
	if _, err := Load("", "F", "", "E"); err == nil || !strings.Contains(err.Error(), "F") || !strings.Contains(err.Error(), "E") {
		t.Errorf("no keys: %v; want ErrNoKeys naming both sources", err)
	}
	if _, err := Load(file, "F", "k:"+good, "E"); err == nil {
		t.Error("keys in both a file and the environment were accepted")
	}
	if _, err := Load("", "F", " , ", "E"); err == nil || !strings.Contains(err.Error(), "E holds no key") {
		t.Errorf("empty variable: %v", err)
	}
	r, err := Load("", "F", "a:"+secret(1)+"\nb:"+secret(2), "E")
	if err != nil || r.Current() != "b" || strings.Join(r.IDs(), ",") != "a,b" {
		t.Errorf("two keys: %v, %v", r, err)
	}
}

const token = "operator-token-0123456789"

func TestCodecServerNeedsTheTokenAndDecodes(t *testing.T) {
	c := New(ring(t, "k1:"+secret(1)))
	srv := httptest.NewServer(Handler(c, token, []string{"http://localhost:8233"}))
	defer srv.Close()
	enc, _ := c.Encode([]*commonpb.Payload{personal(t)})

	remote := func(endpoint, header string) converter.PayloadCodec {
		return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
			Endpoint: endpoint,
			ModifyRequest: func(r *http.Request) error {
				if header != "" {
					r.Header.Set("Authorization", header)
				}
				return nil
			},
		})
	}
	for name, pc := range map[string]converter.PayloadCodec{
		"bearer":        remote(srv.URL, "Bearer "+token),
		"token in path": remote(srv.URL+"/"+token, ""),
	} {
		dec, err := pc.Decode(enc)
		if err != nil || !proto.Equal(dec[0], personal(t)) {
			t.Errorf("%s: decode = %v, %v", name, dec, err)
		}
		reenc, err := pc.Encode([]*commonpb.Payload{personal(t)})
		if err != nil || string(reenc[0].Metadata[MetadataEncoding]) != EncodingEncrypted {
			t.Errorf("%s: encode = %v, %v", name, reenc, err)
		}
	}
	for name, pc := range map[string]converter.PayloadCodec{
		"no token":                 remote(srv.URL, ""),
		"wrong bearer":             remote(srv.URL, "Bearer "+token+"x"),
		"wrong path token":         remote(srv.URL+"/"+token[:len(token)-1], ""),
		"token not a path":         remote(srv.URL+"/x/"+token, ""),
		"wrong bearer, right path": remote(srv.URL+"/"+token, "Bearer nope"),
		"prefix of a token":        remote(srv.URL, "Bearer operator"),
	} {
		if _, err := pc.Decode(enc); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("%s: decode answered %v; want Unauthorized", name, err)
		}
	}
}

func TestCodecServerCORS(t *testing.T) {
	h := Handler(New(ring(t, "k1:"+secret(1))), token, []string{"http://localhost:8233"})
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/"+token+"/decode", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := preflight("http://localhost:8233")
	if w.Code/100 != 2 || w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:8233" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Errorf("preflight from the UI: %d %v", w.Code, w.Header())
	}
	if got := preflight("http://evil.example").Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("a foreign origin was allowed: %q", got)
	}
}

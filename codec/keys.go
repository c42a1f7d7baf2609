package codec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Keyring is the set of keys a process holds: the newest (the last one
// listed) encrypts, every one decrypts. Rotation is adding a key at the end
// and, once no history the namespace retains was written under an old key,
// removing it.
type Keyring struct {
	byID  map[string]aeadKey
	order []string
}

// IDs lists the loaded key IDs, oldest first (never the keys).
func (r *Keyring) IDs() []string { return append([]string(nil), r.order...) }

// Current is the ID of the key that encrypts.
func (r *Keyring) Current() string { return r.order[len(r.order)-1] }

func (r *Keyring) newest() aeadKey { return r.byID[r.Current()] }

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ErrNoKeys is returned by Load when neither a key file nor the variable
// is configured.
var ErrNoKeys = errors.New("no payload encryption key is configured")

// Load reads the keyring from a file (one key a line) or from the value of
// an environment variable (keys separated by commas or new lines); fileName
// and envName only name the source in errors. Keys come from files or the
// environment only, never from flags, which other users of the machine
// can read in the process list. Each key is "ID:BASE64" where BASE64 is 32
// random bytes, e.g. from `head -c 32 /dev/urandom | base64`; blank lines
// and lines starting with # are skipped. Errors name the file and line or
// the variable and entry, never the key.
func Load(file, fileName, env, envName string) (*Keyring, error) {
	switch {
	case file != "" && env != "":
		return nil, fmt.Errorf("both %s and %s are set: keep the keys in one place", fileName, envName)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read payload encryption keys (%s): %w", fileName, err)
		}
		return parse(strings.Split(string(b), "\n"), file, func(i int) string { return fmt.Sprintf("%s:%d", file, i+1) })
	case env != "":
		return parse(strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == '\n' }), envName,
			func(i int) string { return fmt.Sprintf("%s: entry %d", envName, i+1) })
	}
	return nil, fmt.Errorf("%w: set %s (a file of ID:BASE64 lines) or %s", ErrNoKeys, fileName, envName)
}

func parse(lines []string, source string, where func(int) string) (*Keyring, error) {
	r := &Keyring{byID: map[string]aeadKey{}}
	var problems []string
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		id = strings.TrimSpace(id)
		switch {
		case !ok:
			problems = append(problems, where(i)+": want ID:BASE64 (a key ID, a colon, 32 bytes in base64)")
			continue
		case !keyIDPattern.MatchString(id):
			problems = append(problems, where(i)+": key ID: want 1-64 letters, digits, '.', '_' or '-'")
			continue
		case r.byID[id].aead != nil:
			problems = append(problems, fmt.Sprintf("%s: key ID %q is listed twice", where(i), id))
			continue
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: key %q: not base64 (standard alphabet, padded)", where(i), id))
			continue
		}
		k, err := newKey(id, secret)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: key %q: %v", where(i), id, err))
			continue
		}
		r.byID[id] = k
		r.order = append(r.order, id)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("payload encryption keys: %s", strings.Join(problems, "; "))
	}
	if len(r.order) == 0 {
		return nil, fmt.Errorf("payload encryption keys: %s holds no key", source)
	}
	return r, nil
}

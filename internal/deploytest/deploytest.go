// Package deploytest checks the deployment files (docker-compose.yml,
// Dockerfile, scripts/temporal.sh, deploy/) against the code, without a Docker
// engine: they are parsed, and every name, port and credential they share
// with each other and with config must agree. It also reads
// deploy/search-attributes.txt, the one list of custom search attributes,
// for any test that wants to compare against it.
package deploytest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// SearchAttributesFile is the canonical list, relative to the repository root.
const SearchAttributesFile = "deploy/search-attributes.txt"

// SearchAttributeTypes are the types `temporal operator search-attribute
// create --type` accepts.
var SearchAttributeTypes = []string{"Text", "Keyword", "Int", "Double", "Bool", "Datetime", "KeywordList"}

// SearchAttribute is one NAME=Type line.
type SearchAttribute struct {
	Name string
	Type string
}

// RepoRoot finds the repository root (the directory holding go.mod) from the
// working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ReadSearchAttributes parses a NAME=Type file: blank lines and # comments
// are ignored; names must be identifiers, unique, with a known type.
func ReadSearchAttributes(path string) ([]SearchAttribute, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []SearchAttribute
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, typ, ok := strings.Cut(line, "=")
		name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
		switch {
		case !ok:
			return nil, fmt.Errorf("%s:%d: want NAME=Type, got %q", path, n, line)
		case !identifier.MatchString(name):
			return nil, fmt.Errorf("%s:%d: %q is not an identifier", path, n, name)
		case !validType(typ):
			return nil, fmt.Errorf("%s:%d: type %q of %s is not one of %v", path, n, typ, name, SearchAttributeTypes)
		case seen[name]:
			return nil, fmt.Errorf("%s:%d: %s is listed twice", path, n, name)
		}
		seen[name] = true
		out = append(out, SearchAttribute{Name: name, Type: typ})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no search attributes", path)
	}
	return out, nil
}

// RequiredSearchAttributes reads the canonical list from the repository.
func RequiredSearchAttributes() ([]SearchAttribute, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	return ReadSearchAttributes(filepath.Join(root, SearchAttributesFile))
}

func validType(t string) bool {
	for _, v := range SearchAttributeTypes {
		if t == v {
			return true
		}
	}
	return false
}

// EnumName is the API enum name of a search attribute type, as the server and
// `temporal operator search-attribute list -o json` report it:
// KeywordList -> INDEXED_VALUE_TYPE_KEYWORD_LIST.
func EnumName(typ string) string {
	var b strings.Builder
	for i, r := range typ {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return "INDEXED_VALUE_TYPE_" + strings.ToUpper(b.String())
}

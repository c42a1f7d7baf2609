package email

import (
	"strings"
	"unicode"
)

// Article returns the English indefinite article, "a" or "an", for the
// phrase that follows it. Tier and vendor names come from program files, so
// a template cannot hard-code "a" ("a Enterprise partner"): the article
// depends on how the first word is spoken, which its spelling mostly tells:
//
//   - an acronym (two or more capitals, "MSP", "VAR") is spelt out, so the
//     name of its first letter decides: "an MSP", "a VAR";
//   - a number is read out: "an 8-seat", "an 11th", "a 2nd";
//   - a word starting with a vowel letter takes "an", except where that
//     vowel sounds like "you" or "won" ("a Unified", "a Universal",
//     "a European", "a One-Stop"); a "un" followed by a consonant other than
//     a vowel-then-i is the negating prefix ("an Unlimited", "an Upgrade");
//   - a word starting with a silent h takes "an" ("an Honorary").
//
// The rules are those of English pronunciation guides (Merriam-Webster's
// "a vs. an" usage note); the exceptions listed are the prefixes that occur
// in business and tier names, not every English word.
func Article(phrase string) string {
	word := strings.TrimLeftFunc(phrase, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if end := strings.IndexFunc(word, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); end >= 0 {
		word = word[:end]
	}
	if word == "" {
		return "a"
	}
	if isDigit(word[0]) {
		return numberArticle(phrase)
	}
	if isAcronym(word) {
		// Letters whose spoken name starts with a vowel sound.
		if strings.ContainsRune("AEFHILMNORSX", rune(word[0])) {
			return "an"
		}
		return "a"
	}
	w := strings.ToLower(word)
	for _, p := range []string{"hour", "honest", "honor", "honour", "heir"} {
		if strings.HasPrefix(w, p) {
			return "an"
		}
	}
	for _, p := range []string{"uni", "use", "usu", "uti", "ura", "uro", "ubi", "eu", "ewe", "one", "once"} {
		if strings.HasPrefix(w, p) {
			return "a"
		}
	}
	// "u" + one consonant + vowel is usually a "you" sound (a Utopia,
	// a Unix, a Usability): but "un-"/"up-"/"ul-"/"um-" + vowel are negating
	// or other prefixes read with a short u (an Unaware, an Upend).
	if len(w) >= 3 && w[0] == 'u' && !isVowel(w[1]) && isVowel(w[2]) && !strings.ContainsRune("nplm", rune(w[1])) {
		return "a"
	}
	if isVowel(w[0]) {
		return "an"
	}
	return "a"
}

// WithArticle prefixes phrase with its article: "an Enterprise", "a Premier".
func WithArticle(phrase string) string { return Article(phrase) + " " + phrase }

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isVowel(b byte) bool { return strings.IndexByte("aeiou", b) >= 0 }

func isAcronym(word string) bool {
	upper := 0
	for _, r := range word {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsUpper(r) {
			upper++
		}
	}
	return upper >= 2
}

// numberArticle decides for a phrase starting with a number: 8, 11 and 18
// (and 8,000, 11,000, 18 million…) are read starting with a vowel sound.
func numberArticle(phrase string) string {
	digits := phrase
	if end := strings.IndexFunc(phrase, func(r rune) bool { return !unicode.IsDigit(r) && r != ',' && r != ' ' && r != '\u00a0' }); end >= 0 {
		digits = phrase[:end]
	}
	digits = strings.TrimRight(digits, ", \u00a0")
	// The first group of digits is what is spoken first: "11,000" reads
	// "eleven thousand", "110" reads "one hundred ten".
	first := digits
	if i := strings.IndexAny(digits, ", \u00a0"); i >= 0 {
		first = digits[:i]
	} else if len(digits) > 3 {
		first = digits[:len(digits)%3]
		if first == "" {
			first = digits[:3]
		}
	}
	switch {
	case first[0] == '8':
		return "an"
	case len(first) == 2 && (first == "11" || first == "18"):
		return "an"
	}
	return "a"
}

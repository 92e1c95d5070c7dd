package geo

import (
	"fmt"
	"math"
)

// normCountry upper-cases an ISO 3166-1 alpha-2 code and checks its shape:
// two ASCII letters (user-assigned codes such as XK are accepted).
func normCountry(s string) (string, error) {
	if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return "", fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", s)
	}
	if isUpper(s[0]) && isUpper(s[1]) {
		return s, nil
	}
	return string([]byte{toUpper(s[0]), toUpper(s[1])}), nil
}

// continents are the continent codes MaxMind uses.
var continents = [...]string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"}

// normContinent upper-cases a continent code and checks it is one of
// AF AN AS EU NA OC SA. The result is a shared constant string.
func normContinent(s string) (string, error) {
	if len(s) == 2 {
		u := [2]byte{toUpper(s[0]), toUpper(s[1])}
		for _, c := range continents {
			if c[0] == u[0] && c[1] == u[1] {
				return c, nil
			}
		}
	}
	return "", fmt.Errorf("continent %q is not one of AF AN AS EU NA OC SA", s)
}

// checkCoords checks a latitude in [-90, 90] and a longitude in
// [-180, 180] degrees.
func checkCoords(lat, lon float64) error {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return fmt.Errorf("latitude %v is outside -90..90", lat)
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return fmt.Errorf("longitude %v is outside -180..180", lon)
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || isUpper(c) }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }

func toUpper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// countryCodes holds every code of two upper-case letters, AA to ZZ, so
// that a stored location keeps a country in two bytes and a lookup turns it
// back into a string without allocating.
var countryCodes = func() (codes [26 * 26]string) {
	b := make([]byte, 0, 2*len(codes))
	for i := range codes {
		b = append(b, byte('A'+i/26), byte('A'+i%26))
	}
	all := string(b)
	for i := range codes {
		codes[i] = all[2*i : 2*i+2]
	}
	return codes
}()

// countryIndex returns 1 + the index in countryCodes of a code normCountry
// accepted.
func countryIndex(c string) uint16 { return 1 + uint16(c[0]-'A')*26 + uint16(c[1]-'A') }

// continentIndex returns 1 + the index in continents of a code
// normContinent accepted.
func continentIndex(c string) uint8 {
	for i, k := range continents {
		if k == c {
			return uint8(i + 1)
		}
	}
	return 0
}
